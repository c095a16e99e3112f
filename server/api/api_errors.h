// How the API answers a failed call: the HTTP status for each error code, and the
// JSON error shape of STYLE.md. Also the wrapper every route runs in, which turns
// what a JSON library throws on a malformed body into 400 BAD_REQUEST.
#pragma once

#include "core/host/error.h"
#include "server/http/message.h"
#include "server/http/router.h"

namespace updraft::server::api {

int http_status_for(ErrorCode code);

http::Response error_response(const Error& error);

// `handler`, with nlohmann::json's exceptions (a field of the wrong type, say)
// answered 400 instead of escaping as 500.
http::Handler guarded(http::Handler handler);

}  // namespace updraft::server::api
