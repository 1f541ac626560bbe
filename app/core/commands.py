from flask import Flask


def register_core_commands(app: Flask) -> None:
    return None
