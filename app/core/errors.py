"""Errors: JSON `{"error": {"code", "message"}}` under /api and for JSON clients, pages otherwise."""
from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException

MESSAGES = {
    400: "请求有误",
    401: "请先登录",
    403: "没有权限访问",
    404: "页面不存在",
    405: "不支持该操作",
    409: "操作冲突，请刷新后重试",
    413: "上传的文件太大",
    422: "提交的内容有误",
    429: "操作太频繁，请稍后再试",
    500: "服务器出错了，请稍后再试",
}


class ApiError(Exception):
    """Raised by API views (and services called from them) for a clean 4xx."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class InvalidParameter(BadRequest):
    """A query-string or form value that is not what it must be (see app.core.params): a 400
    with `message`, as JSON under /api and as the error page otherwise."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json")


def error_response(status: int, code: str, message: str):
    if wants_json():
        return jsonify(error={"code": code, "message": message}), status
    return render_template("errors/error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        return jsonify(error={"code": error.code, "message": error.message}), error.status

    @app.errorhandler(InvalidParameter)
    def handle_invalid_parameter(error: InvalidParameter):
        return error_response(400, "invalid_parameter", error.message)

    @app.errorhandler(CSRFError)
    def handle_csrf(error: CSRFError):
        return error_response(400, "csrf_failed", "页面已过期，请刷新后重新提交")

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        status = error.code or 500
        code = (error.name or "error").lower().replace(" ", "_")
        return error_response(status, code, MESSAGES.get(status, error.description or "出错了"))

    @app.errorhandler(500)
    def handle_500(error):
        return error_response(500, "internal_error", MESSAGES[500])
