// Maps method + path pattern to a handler. Patterns are literal segments and
// "{name}" captures one segment: "/api/v1/devices/{id}/tags". A path that matches
// no pattern is 404, a pattern without the method 405 (both in the JSON error
// shape); HEAD falls back to a GET route. First matching route wins.
// Segments are matched percent-decoded; a capture never matches an empty segment,
// "." or "..", or one whose decoded value holds '/' or NUL, so captured ids are
// safe to use in file paths. Routes are added before serving; dispatch() and
// admit() are const and may run on several threads at once.
//
// Admission: a route may add a check the server runs on the request's header
// alone, before it reads a single body byte (HttpServer calls Router::admit()).
// It refuses (401, 403, 404, ...) without the body ever being read, and sets the
// route's body limit and whether the body streams to a file instead of memory.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "net/http/message.h"

namespace updraft::net::http {

using Handler = std::function<Response(Request&)>;

// What a route decides from a request's header (method, target, headers, path
// parameters; no body yet).
struct Admission {
  std::optional<Response> refusal;  // set: sent as the answer; the body is never read
  std::size_t max_body_bytes = 0;   // 0: the server's max_body_bytes; beyond: 413
  bool body_to_file = false;        // stream the body to Request::body_file, not memory
  // The answer to a body over the limit, for APIs with their own error shape; unset:
  // 413 in the API's error shape.
  std::optional<Response> too_large;
};
using Admit = std::function<Admission(Request&)>;

// A handler with its admission check.
struct Endpoint {
  Handler handler;
  Admit admit;  // empty: admitted with the server's limits
};

class Router {
 public:
  void add(Method method, std::string pattern, Handler handler, Admit admit = {});
  void add(Method method, std::string pattern, Endpoint endpoint);
  // Finds the route, fills request.path_params and runs it.
  Response dispatch(Request& request) const;
  // The matching route's admission for a request whose body has not been read; a
  // request no route matches is admitted (dispatch answers it 404 or 405).
  Admission admit(Request& request) const;

 private:
  struct Route {
    Method method;
    std::vector<std::string> segments;
    Handler handler;
    Admit admit;
  };
  // The route `request` goes to (HEAD falls back to GET), with its path parameters
  // filled in; nullptr when none, with the methods the path allows in `allowed`.
  const Route* find(Request& request, unsigned& allowed) const;
  std::vector<Route> routes_;
};

}  // namespace updraft::net::http
