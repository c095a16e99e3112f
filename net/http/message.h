// HTTP requests and responses as route handlers see them: plain values, no Boost
// types, so code in server/api builds without Beast's headers (compile time) and
// reads the same in tests. The server (http_server.h) converts at the socket.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error_code.h"
#include "core/host/event_sink.h"

namespace updraft::net::http {

enum class Method : std::uint8_t { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

// Header names are stored lower-case.
using Headers = std::map<std::string, std::string>;

// A request body the server streamed to disk instead of memory (a route's admission
// asked for it, see router.h), hashed on the way. The server deletes the file once
// the handler has returned: a handler that keeps it renames it away first.
struct BodyFile {
  std::string path;
  std::uint64_t size = 0;
  std::string sha256;  // lower-case hex
};

struct Request {
  Method method = Method::kGet;
  std::string target;                              // as sent: path and query
  std::string path;                                // decoded path, no query
  std::map<std::string, std::string> query;        // decoded query parameters
  std::map<std::string, std::string> path_params;  // filled by the router: "{id}" -> value
  Headers headers;
  std::string body;                   // empty when the body went to `body_file`
  std::optional<BodyFile> body_file;  // set when the route's admission asked for a file
  std::string remote_address;

  // The header's value, or "" when absent. `name` in lower case.
  std::string_view header(std::string_view name) const;
  // A path parameter the route declared; "" when absent.
  const std::string& param(const std::string& name) const;
};

struct Response {
  int status = 200;
  Headers headers;  // Content-Length is set by the server
  std::string body;

  // Instead of `body`: serve this file (or the byte range the request's Range
  // header asks for: 206, 416, HEAD all handled by the server), with zero-copy
  // sendfile where the transport allows. The ETag is the handler's "etag" header
  // if set (e.g. the artifact's hash, quoted), else size and mtime; If-None-Match
  // (304), If-Match (412) and If-Range are honoured. A missing file is 404.
  std::optional<std::string> file_path;
  // With file_path: told how many body bytes the answer carries once the server
  // has decided (a range's length; 0 for HEAD, 304, 412 and 416), so a download
  // counter counts what is sent rather than the whole file every time.
  std::function<void(std::uint64_t)> on_file_body;

  // Instead of a body: keep the connection as a text/event-stream and hand the
  // sink to this callback once the headers are out. The callback runs on the
  // server's thread and must return promptly; keep the sink to send later.
  std::function<void(std::shared_ptr<EventSink>)> event_stream;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
  static Response empty(int status);  // e.g. 204
  // The API's error shape (docs/style.md): {"error":{"code":"NAME","number":N,"message":"..."}}.
  static Response error(int status, ErrorCode code, std::string_view message);
  // Serves `path` (see file_path) with this Content-Type.
  static Response file(std::string path, std::string content_type = "application/octet-stream");
};

std::string_view method_name(Method method);
// "GET" -> kGet, ...; any other token is kOther.
Method parse_method(std::string_view name);

// Decodes %XX escapes (and '+' as a space when `plus_is_space`, as in queries).
// A malformed escape is kept as written rather than rejected.
std::string percent_decode(std::string_view text, bool plus_is_space = false);

// Fills request.path and request.query from request.target. A repeated query
// key keeps its first value; a key without '=' maps to "".
void parse_target(Request& request);

}  // namespace updraft::net::http
