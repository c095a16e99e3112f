// How the API answers a failed call: the HTTP status for each error code, and the
// JSON error shape of docs/style.md. Also the wrapper every route runs in, which turns
// what a JSON library throws on a malformed body into 400 BAD_REQUEST.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/host/error.h"
#include "net/http/message.h"
#include "net/http/router.h"

namespace updraft::server::api {

int http_status_for(ErrorCode code);

// kApiBadRequest with `message`, which names the field first ("phases[1]: ...").
Error bad_request(std::string message);

// A positive decimal id (a path's "{id}"), or nullopt.
std::optional<std::int64_t> parse_id(std::string_view text);

// The route's "{id}" as a positive number; kApiBadRequest naming `what` otherwise.
HostResult<std::int64_t> id_param(const net::http::Request& request, std::string_view what);

net::http::Response error_response(const Error& error);

// `handler`, with nlohmann::json's exceptions (a field of the wrong type, say)
// answered 400 instead of escaping as 500.
net::http::Handler guarded(net::http::Handler handler);

}  // namespace updraft::server::api
