#include "net/coap/message.h"

#include <cstdio>

namespace updraft::net::coap {

std::string code_text(Code code) {
  const auto value = static_cast<unsigned>(code);
  char text[8];
  std::snprintf(text, sizeof text, "%u.%02u", value >> 5, value & 31);
  return text;
}

Response Response::error(Code code, std::string_view text) {
  Response response;
  response.code = code;
  const auto* first = reinterpret_cast<const std::byte*>(text.data());
  response.payload.assign(first, first + text.size());
  return response;
}

}  // namespace updraft::net::coap
