#include "server/api/public_url.h"

#include <algorithm>
#include <cctype>

namespace updraft::server::api {
namespace {

Error bad(std::string message) { return Error(ErrorCode::kApiBadRequest, std::move(message)); }

bool all_of(std::string_view text, bool (*allowed)(char)) {
  return !text.empty() && std::all_of(text.begin(), text.end(), allowed);
}

bool digit(char c) { return c >= '0' && c <= '9'; }
bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.';
}
bool ipv6_char(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':'; }

bool valid_port(std::string_view port) {
  if (!all_of(port, digit) || port.size() > 5) return false;
  return std::stoi(std::string(port)) <= 65535;
}

// A host name's labels: 1-63 characters, letters, digits and inner hyphens.
bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 253 || !all_of(name, name_char)) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    start = dot + 1;
  }
  return true;
}

}  // namespace

bool valid_host(std::string_view host) {
  std::string_view name = host;
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos || !all_of(host.substr(1, close - 1), ipv6_char))
      return false;
    const std::string_view rest = host.substr(close + 1);
    return rest.empty() || (rest.front() == ':' && valid_port(rest.substr(1)));
  }
  const std::size_t colon = host.rfind(':');
  if (colon != std::string_view::npos) {
    if (!valid_port(host.substr(colon + 1))) return false;
    name = host.substr(0, colon);
  }
  return valid_name(name);
}

HostResult<void> validate_public_url(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return bad("public URL " + std::string(url) + ": must start with http:// or https://");
  }
  const std::size_t slash = rest.find('/');
  if (!valid_host(rest.substr(0, slash)))
    return bad("public URL " + std::string(url) + ": not a valid host");
  if (slash != std::string_view::npos) {
    const std::string_view path = rest.substr(slash);
    const bool plain = std::all_of(path.begin(), path.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '/' || c == '-' || c == '_' ||
             c == '.' || c == '~';
    });
    if (!plain)
      return bad("public URL " + std::string(url) + ": the path may hold only /A-Za-z0-9-_.~");
  }
  return {};
}

HostResult<std::string> link_base(const PublicUrl& config, const net::http::Request& request) {
  if (!config.configured.empty()) {
    std::string base = config.configured;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base;
  }
  std::string scheme = config.scheme;
  std::string_view host = request.header("host");
  if (config.trust_forwarded) {
    const std::string_view proto = request.header("x-forwarded-proto");
    if (proto == "http" || proto == "https") {
      scheme = std::string(proto);
    } else if (!proto.empty()) {
      return bad("X-Forwarded-Proto: http or https");
    }
    // A chain of proxies lists hosts, the client's first.
    std::string_view forwarded_host = request.header("x-forwarded-host");
    forwarded_host = forwarded_host.substr(0, forwarded_host.find(','));
    while (!forwarded_host.empty() && forwarded_host.back() == ' ') forwarded_host.remove_suffix(1);
    if (!forwarded_host.empty()) host = forwarded_host;
  }
  if (host.empty()) return bad("Host: required (HTTP/1.1) to build this answer's links");
  if (!valid_host(host)) return bad("Host: not a host name or address");
  return scheme + "://" + std::string(host);
}

}  // namespace updraft::server::api
