// CoAP requests and responses as handlers see them (RFC 7252, Block2 of RFC 7959):
// plain values, no libcoap types, so server/api and tests build without libcoap's
// headers. The server (coap_server.h) converts at the socket. Host only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace updraft::net::coap {

// Request codes (RFC 7252 section 12.1.1).
enum class Method : std::uint8_t { kGet = 1, kPost = 2, kPut = 3, kDelete = 4 };

// Response codes, class * 32 + detail (RFC 7252 section 12.1.2; 4.09 is RFC 8132's).
enum class Code : std::uint8_t {
  kCreated = 65,                 // 2.01
  kDeleted = 66,                 // 2.02
  kChanged = 68,                 // 2.04
  kContent = 69,                 // 2.05
  kBadRequest = 128,             // 4.00
  kUnauthorized = 129,           // 4.01
  kBadOption = 130,              // 4.02
  kForbidden = 131,              // 4.03
  kNotFound = 132,               // 4.04
  kMethodNotAllowed = 133,       // 4.05
  kConflict = 137,               // 4.09
  kRequestEntityTooLarge = 141,  // 4.13
  kInternalServerError = 160,    // 5.00
  kServiceUnavailable = 163,     // 5.03
};

// "2.05", "4.04": how CoAP writes a code.
std::string code_text(Code code);

// A Block2 option's value (RFC 7959 section 2.2): block `num` of 2^(szx+4) bytes,
// and whether more follow. szx 7 is reserved (BERT, CoAP over TCP only).
struct Block {
  std::uint32_t num = 0;  // 20 bits on the wire
  bool more = false;
  std::uint8_t szx = 6;

  std::size_t size() const { return std::size_t{16} << szx; }
  bool operator==(const Block&) const = default;
};

inline constexpr std::uint32_t kMaxBlockNum = (1u << 20) - 1;

// An option the handler adds to a response: number and raw value.
struct Option {
  std::uint16_t number = 0;
  std::vector<std::byte> value;
};

struct Request {
  Method method = Method::kGet;
  std::vector<std::string> path;  // the Uri-Path segments, in order
  std::vector<std::byte> payload;
  std::optional<Block> block2;  // the Block2 option, if the request has one
  // The DTLS PSK identity the session was opened with; nullopt over plain UDP.
  std::optional<std::string> identity;
};

struct Response {
  Code code = Code::kContent;
  std::vector<std::byte> payload;
  std::optional<Block> block2;  // written as the Block2 option
  std::vector<Option> options;  // any others, in any order

  // An error with a diagnostic payload (RFC 7252 section 5.5.2): `text` as UTF-8.
  static Response error(Code code, std::string_view text);
};

// Serves one request; runs on the server's thread and must not block for long.
using Handler = std::function<Response(const Request&)>;

}  // namespace updraft::net::coap
