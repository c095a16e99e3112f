// A CoAP server (RFC 7252) over libcoap 3, behind a pimpl so including this header
// costs no libcoap parsing. It opens a plain UDP endpoint, a DTLS endpoint with
// pre-shared keys, or both, and hands every request to the handler registered for
// its method and the longest matching path prefix.
//
// Block-wise transfer is left to the handlers: a request's Block2 option comes in
// Request::block2 and a response carries what the handler puts in
// Response::block2, so a handler can add options of its own to each block (the
// CRC option of docs/formats/coap.md). libcoap never splits a body.
//
// Duplicates: a confirmable request that is not a GET and arrives again (same
// message id and token, from the same peer, within RFC 7252's EXCHANGE_LIFETIME)
// gets the first answer again without the handler running twice, so a lost ACK
// never applies a report twice. The last such answer is kept per peer, enough for
// clients that keep one request outstanding (NSTART 1).
//
// Threads: one, started by start(), runs libcoap's io loop; handlers and the PSK
// lookup run on it, one at a time. Nothing a client sends escapes as an exception:
// a handler that throws is logged and answered 5.00.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/host/error.h"
#include "net/coap/message.h"

namespace updraft::net::coap {

struct Endpoint {
  std::string address = "127.0.0.1";  // an IPv4 or IPv6 literal, or a host name
  std::uint16_t port = 0;             // 0: the kernel picks one; read it back from the server
};

// The key for a DTLS PSK identity, as bytes; nullopt refuses the handshake.
// Called on the server's thread during each handshake.
using PskLookup = std::function<std::optional<std::string>(std::string_view identity)>;

struct CoapServerOptions {
  std::optional<Endpoint> udp;   // coap://
  std::optional<Endpoint> dtls;  // coaps://, pre-shared keys only; needs `psk`
  PskLookup psk;
  // Where errors are reported (handler exceptions, responses that do not fit);
  // stderr if empty. Called from the server's thread.
  std::function<void(std::string_view)> log;
};

class CoapServer {
 public:
  explicit CoapServer(CoapServerOptions options);
  ~CoapServer();  // stop() if still running
  CoapServer(const CoapServer&) = delete;
  CoapServer& operator=(const CoapServer&) = delete;

  // Before start(): requests with `method` whose Uri-Path begins with the segments
  // of `prefix` ("a" matches /a and /a/123; "" matches everything) go to
  // `handler`. The longest matching prefix wins. A path nobody serves is answered
  // 4.04, a path served for other methods only 4.05.
  void handle(Method method, std::string_view prefix, Handler handler);

  // Opens the endpoints and starts the thread. kTransportFailed with the reason
  // when an address cannot be bound or libcoap has no DTLS; kInvalidArgument for
  // no endpoint, or DTLS without a PSK lookup. Call at most once.
  Result<void, Error> start();

  // The bound ports (the kernel's choice when the endpoint's port was 0); 0 for
  // an endpoint not configured, or before start().
  std::uint16_t udp_port() const;
  std::uint16_t dtls_port() const;

  // Stops the loop (within ~100 ms), joins the thread and closes the endpoints.
  // Safe to call more than once; never from a handler.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace updraft::net::coap
