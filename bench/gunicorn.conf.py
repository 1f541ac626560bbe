# The benchmarks give gunicorn every setting on its command line (bench/harness.py); this empty
# file stands in for the repository's production gunicorn.conf.py, which would otherwise be read
# from the working directory (its access log alone costs a measurable share of a request).
