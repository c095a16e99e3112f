#include "net/http/router.h"

#include <array>
#include <cstddef>
#include <string_view>
#include <utility>

namespace updraft::net::http {
namespace {

// Deeper paths than any route we declare are simply not found.
constexpr std::size_t kMaxSegments = 32;

struct Segments {
  std::array<std::string_view, kMaxSegments> items;
  std::size_t count = 0;
};

// "/a/b/" -> {"a", "b", ""}; "/" -> {""}. False when there are too many segments.
bool split_path(std::string_view path, Segments& out) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (;;) {
    if (out.count == kMaxSegments) return false;
    const std::size_t slash = path.find('/');
    out.items[out.count++] = path.substr(0, slash);
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

bool is_capture(const std::string& pattern_segment) {
  return pattern_segment.size() >= 2 && pattern_segment.front() == '{' &&
         pattern_segment.back() == '}';
}

// A capture never yields a value that could walk a file path ("..", "a%2Fb") or
// end a C string early, so handlers may use captured ids in paths.
bool acceptable_capture(std::string_view raw) {
  if (raw.empty()) return false;
  if (raw.find('%') == std::string_view::npos) return raw != "." && raw != "..";
  const std::string value = percent_decode(raw);
  return value != "." && value != ".." && value.find('/') == std::string::npos &&
         value.find('\0') == std::string::npos;
}

bool segment_equals(const std::string& literal, std::string_view raw) {
  if (raw.find('%') == std::string_view::npos) return literal == raw;
  return literal == percent_decode(raw);
}

std::string allowed_methods(unsigned mask) {
  std::string allow;
  for (Method method : {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kPatch,
                        Method::kDelete, Method::kOptions}) {
    if ((mask & (1u << static_cast<unsigned>(method))) == 0) continue;
    if (!allow.empty()) allow += ", ";
    allow += method_name(method);
  }
  return allow;
}

}  // namespace

void Router::add(Method method, std::string pattern, Handler handler, Admit admit) {
  Segments parts;
  (void)split_path(pattern, parts);  // patterns come from our code, never too deep
  Route route{method, {}, std::move(handler), std::move(admit)};
  route.segments.reserve(parts.count);
  for (std::size_t i = 0; i < parts.count; ++i) route.segments.emplace_back(parts.items[i]);
  routes_.push_back(std::move(route));
}

void Router::add(Method method, std::string pattern, Endpoint endpoint) {
  add(method, std::move(pattern), std::move(endpoint.handler), std::move(endpoint.admit));
}

const Router::Route* Router::find(Request& request, unsigned& allowed) const {
  allowed = 0;
  // Match on the raw path so that an escaped '/' stays inside its segment.
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  if (path.empty()) path = request.path;

  Segments segments;
  if (!split_path(path, segments)) return nullptr;
  const auto matches = [&](const Route& route) {
    if (route.segments.size() != segments.count) return false;
    for (std::size_t i = 0; i < segments.count; ++i) {
      const std::string& want = route.segments[i];
      const bool ok = is_capture(want) ? acceptable_capture(segments.items[i])
                                       : segment_equals(want, segments.items[i]);
      if (!ok) return false;
    }
    return true;
  };
  const auto found = [&](const Route& route) {
    request.path_params.clear();
    for (std::size_t i = 0; i < segments.count; ++i) {
      const std::string& want = route.segments[i];
      if (!is_capture(want)) continue;
      request.path_params.insert_or_assign(want.substr(1, want.size() - 2),
                                           percent_decode(segments.items[i]));
    }
    return &route;
  };

  const Route* get_route = nullptr;
  for (const Route& route : routes_) {
    if (!matches(route)) continue;
    if (route.method == request.method) return found(route);
    allowed |= 1u << static_cast<unsigned>(route.method);
    if (route.method == Method::kGet && get_route == nullptr) get_route = &route;
  }
  if (request.method == Method::kHead && get_route != nullptr) return found(*get_route);
  if (get_route != nullptr) allowed |= 1u << static_cast<unsigned>(Method::kHead);
  return nullptr;
}

Response Router::dispatch(Request& request) const {
  unsigned allowed = 0;
  if (const Route* route = find(request, allowed)) return route->handler(request);
  if (allowed == 0) return Response::error(404, ErrorCode::kApiNotFound, "no such resource");
  Response response =
      Response::error(405, ErrorCode::kApiMethodNotAllowed,
                      std::string(method_name(request.method)) + " is not allowed here");
  response.headers.emplace("allow", allowed_methods(allowed));
  return response;
}

Admission Router::admit(Request& request) const {
  unsigned allowed = 0;
  const Route* route = find(request, allowed);
  if (route == nullptr || !route->admit) return {};
  return route->admit(request);
}

}  // namespace updraft::net::http
