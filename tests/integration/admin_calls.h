// The operator's side of process-level tests: an admin API call checked for its
// status, and a release upload. Host only.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "net/http/http_client.h"

namespace updraft::testing {

// `method target` with the admin token; expects `status` and returns the JSON
// answer (discarded JSON when it is none, null when the request failed).
inline nlohmann::json admin_call(std::uint16_t port, const std::string& token,
                                 net::http::Method method, const std::string& target,
                                 const std::string& body, int status,
                                 const net::http::HttpClientOptions& options = {}) {
  net::http::HttpClient client("127.0.0.1", port, options);
  auto r = client.request(method, target, {{"authorization", "Bearer " + token}}, body);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  if (!r.ok()) return nlohmann::json();
  EXPECT_EQ(r->status, status) << target << ": " << r->body;
  return nlohmann::json::parse(r->body, nullptr, false);
}

// Uploads `image` as a release of product "gateway" for hardware "pi-4"; its id.
inline int upload_gateway_release(std::uint16_t port, const std::string& token, const char* version,
                                  int counter, const std::vector<std::byte>& image,
                                  const net::http::HttpClientOptions& options = {}) {
  return admin_call(port, token, net::http::Method::kPost,
                    std::string("/api/v1/releases?product=gateway&hardware=pi-4&version=") +
                        version + "&security_counter=" + std::to_string(counter),
                    std::string(reinterpret_cast<const char*>(image.data()), image.size()), 201,
                    options)
      .value("id", 0);
}

}  // namespace updraft::testing
