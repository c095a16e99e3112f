// A blocking CoAP client for tests, over libcoap's client API: one confirmable
// request at a time to one server, over UDP or DTLS with a pre-shared key. Blocks
// are not reassembled: a request says which Block2 it wants and the reply is that
// one message, with every option it carried, so tests see exactly what a device
// would. Host only; not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"
#include "net/coap/message.h"

namespace updraft::net::coap::testing {

struct Psk {
  std::string identity;
  std::string key;
};

struct Reply {
  Code code = Code::kContent;
  std::vector<std::byte> payload;
  std::optional<Block> block2;
  std::multimap<std::uint16_t, std::vector<std::byte>> options;  // every option, raw

  std::string text() const {
    return std::string(reinterpret_cast<const char*>(payload.data()), payload.size());
  }
};

class CoapClient {
 public:
  // `psk` set: coaps (DTLS); else plain coap. The session opens lazily (DTLS
  // handshakes with the first request).
  static HostResult<std::unique_ptr<CoapClient>> connect(const std::string& host,
                                                         std::uint16_t port,
                                                         std::optional<Psk> psk = std::nullopt);
  ~CoapClient();
  CoapClient(const CoapClient&) = delete;
  CoapClient& operator=(const CoapClient&) = delete;

  // Sends one request to "/"-separated `path` and waits for its answer.
  // kTransportTimeout when none comes within `timeout` (libcoap retransmits in
  // between), kTransportFailed when the session fails (a DTLS handshake refused).
  HostResult<Reply> request(Method method, const std::string& path, ByteView payload = {},
                            std::optional<Block> block2 = std::nullopt,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));

  struct Impl;

 private:
  explicit CoapClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace updraft::net::coap::testing
