// Maps method + path pattern to a handler. Patterns are literal segments and
// "{name}" captures one segment: "/api/v1/devices/{id}/tags". A path that matches
// no pattern is 404, a pattern without the method 405 (both in the JSON error
// shape); HEAD falls back to a GET route. First matching route wins.
// Segments are matched percent-decoded; a capture never matches an empty segment,
// "." or "..", or one whose decoded value holds '/' or NUL, so captured ids are
// safe to use in file paths. Routes are added before serving; dispatch() is const
// and may run on several threads at once.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "net/http/message.h"

namespace updraft::net::http {

using Handler = std::function<Response(Request&)>;

class Router {
 public:
  void add(Method method, std::string pattern, Handler handler);
  // Finds the route, fills request.path_params and runs it.
  Response dispatch(Request& request) const;

 private:
  struct Route {
    Method method;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace updraft::net::http
