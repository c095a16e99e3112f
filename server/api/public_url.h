// Where absolute links in answers point (DDI's _links): the operator's configured
// public URL, else the request's Host header once it is checked to be a host name
// (it was copied unchecked, so a client could make links point anywhere), and the
// X-Forwarded-Proto / X-Forwarded-Host of a reverse proxy only when the operator
// says one sits in front (any client can send them otherwise). Pure; host only.
#pragma once

#include <string>
#include <string_view>

#include "core/host/error.h"
#include "net/http/message.h"

namespace updraft::server::api {

struct PublicUrl {
  std::string configured;        // "https://updates.example.com[:port][/prefix]"; "" for none
  std::string scheme = "http";   // of the listener, when nothing else says
  bool trust_forwarded = false;  // honour X-Forwarded-Proto / X-Forwarded-Host
};

// kApiBadRequest unless `url` is "http(s)://host[:port][/path]" with a valid host.
HostResult<void> validate_public_url(std::string_view url);

// True for "name.example", "10.0.0.1", "[::1]", each with an optional ":port".
bool valid_host(std::string_view host);

// "<scheme>://<host>" (plus the configured prefix), without a trailing slash;
// kApiBadRequest "Host: ..." when the host the request names is not valid.
HostResult<std::string> link_base(const PublicUrl& config, const net::http::Request& request);

}  // namespace updraft::server::api
