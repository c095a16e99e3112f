#include "server/api/public_url.h"

#include <gtest/gtest.h>

namespace updraft::server::api {
namespace {

net::http::Request with_headers(
    std::initializer_list<std::pair<std::string, std::string>> headers) {
  net::http::Request request;
  for (const auto& [name, value] : headers) request.headers[name] = value;
  return request;
}

std::string base(const PublicUrl& config, const net::http::Request& request) {
  HostResult<std::string> b = link_base(config, request);
  return b.ok() ? *b : "error: " + b.error().message;
}

TEST(PublicUrlTest, HostNamesAndAddresses) {
  for (const char* good :
       {"updates.example.com", "localhost:8080", "10.0.0.1", "[::1]:443", "a-b.c", "x"}) {
    EXPECT_TRUE(valid_host(good)) << good;
  }
  for (const char* bad : {"", "evil.com/x", "a b", "host:99999", "-a.com", "a..b", "[::1",
                          "evil.com@x", "h:", "h\r\nx: y", "\"x\""}) {
    EXPECT_FALSE(valid_host(bad)) << bad;
  }
}

TEST(PublicUrlTest, TheConfiguredUrlWinsOverAnythingTheClientSends) {
  PublicUrl config;
  config.configured = "https://updates.example.com/ota/";
  config.trust_forwarded = true;
  EXPECT_EQ(base(config, with_headers({{"host", "evil.com"}, {"x-forwarded-host", "evil.com"}})),
            "https://updates.example.com/ota");
}

// Found from outside (issue 15): the Host header was copied unchecked into links.
TEST(Regression, AnInvalidHostIsRefusedNotCopiedIntoLinks) {
  PublicUrl config;
  EXPECT_EQ(base(config, with_headers({{"host", "gw.local:8080"}})), "http://gw.local:8080");
  EXPECT_EQ(base(config, with_headers({{"host", "evil.com/phish?"}})),
            "error: Host: not a host name or address");
  EXPECT_EQ(base(config, with_headers({})),
            "error: Host: required (HTTP/1.1) to build this answer's links");
}

TEST(PublicUrlTest, ForwardedHeadersCountOnlyWhenTheOperatorTrustsThem) {
  const net::http::Request request =
      with_headers({{"host", "127.0.0.1:8080"},
                    {"x-forwarded-proto", "https"},
                    {"x-forwarded-host", "ota.example.com, proxy2"}});
  PublicUrl config;
  EXPECT_EQ(base(config, request), "http://127.0.0.1:8080");
  config.trust_forwarded = true;
  EXPECT_EQ(base(config, request), "https://ota.example.com");
  EXPECT_EQ(base(config, with_headers({{"host", "h"}, {"x-forwarded-proto", "gopher"}})),
            "error: X-Forwarded-Proto: http or https");
  EXPECT_EQ(base(config, with_headers({{"host", "h"}, {"x-forwarded-host", "bad host"}})),
            "error: Host: not a host name or address");
}

TEST(PublicUrlTest, AConfiguredUrlIsCheckedAtStart) {
  EXPECT_TRUE(validate_public_url("https://ota.example.com").ok());
  EXPECT_TRUE(validate_public_url("http://10.0.0.2:8080/updraft").ok());
  EXPECT_FALSE(validate_public_url("ota.example.com").ok());
  EXPECT_FALSE(validate_public_url("https://").ok());
  EXPECT_FALSE(validate_public_url("https://ota.example.com/a?b").ok());
}

}  // namespace
}  // namespace updraft::server::api
