#include "server/api/api_errors.h"

#include <charconv>
#include <nlohmann/json.hpp>

namespace updraft::server::api {

int http_status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kApiBadRequest:
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kApiUnauthorized:
      return 401;
    case ErrorCode::kApiForbidden:
      return 403;
    case ErrorCode::kApiNotFound:
    case ErrorCode::kStoreNotFound:
      return 404;
    case ErrorCode::kApiMethodNotAllowed:
      return 405;
    case ErrorCode::kApiNotAcceptable:
      return 406;
    case ErrorCode::kApiConflict:
    case ErrorCode::kStoreConflict:
      return 409;
    case ErrorCode::kApiGone:
      return 410;
    case ErrorCode::kApiPayloadTooLarge:
      return 413;
    case ErrorCode::kApiUnsupportedMediaType:
      return 415;
    case ErrorCode::kApiRangeNotSatisfiable:
      return 416;
    case ErrorCode::kApiTooManyRequests:
      return 429;
    case ErrorCode::kApiUnavailable:
    case ErrorCode::kStoreBusy:
      return 503;
    default:
      return 500;
  }
}

Error bad_request(std::string message) {
  return Error(ErrorCode::kApiBadRequest, std::move(message));
}

std::optional<std::int64_t> parse_id(std::string_view text) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

HostResult<std::int64_t> id_param(const net::http::Request& request, std::string_view what) {
  const std::optional<std::int64_t> id = parse_id(request.param("id"));
  if (!id) return bad_request(std::string(what) + " id: not a number");
  return *id;
}

net::http::Response error_response(const Error& error) {
  return net::http::Response::error(http_status_for(error.code), error.code, error.message);
}

net::http::Handler guarded(net::http::Handler handler) {
  return [handler = std::move(handler)](net::http::Request& request) -> net::http::Response {
    try {
      return handler(request);
    } catch (const nlohmann::json::exception& e) {
      return net::http::Response::error(400, ErrorCode::kApiBadRequest,
                                        std::string("malformed JSON body: ") + e.what());
    }
  };
}

}  // namespace updraft::server::api
