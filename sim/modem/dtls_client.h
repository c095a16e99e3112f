// The modem's DTLS 1.2 client with a pre-shared key (OpenSSL), as NB-IoT modules
// that terminate DTLS themselves: the device's plaintext datagrams go out as
// records, and records from the air come back as plaintext. A session never
// touches a socket. What it transmits (records, handshake flights,
// retransmissions, alerts) goes to a callback and what arrives is handed to
// receive(), so the modem's air channel counts and impairs every byte of it.
// Host only; not thread-safe.
#pragma once

#include <openssl/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"

namespace updraft::sim {

struct DtlsConfig {
  std::string identity;  // the device id on updraftd's CoAPS listener
  std::string key;       // the key's bytes as given (updraftd: 64 hex characters)
  // CoAP's mandatory suite first (RFC 7252, 9.1.3.1), then what other servers prefer.
  std::string ciphers = "PSK-AES128-CCM8:PSK-AES128-CCM:PSK-AES128-GCM-SHA256";
  std::uint16_t mtu = 1280;  // largest datagram put on the air
};

// What every session shares: the OpenSSL context with the key.
class DtlsContext {
 public:
  // kInvalidArgument with OpenSSL's reason when the configuration is refused
  // (an empty identity or key, ciphers OpenSSL does not have).
  static HostResult<std::unique_ptr<DtlsContext>> create(const DtlsConfig& config);
  ~DtlsContext();
  DtlsContext(const DtlsContext&) = delete;
  DtlsContext& operator=(const DtlsContext&) = delete;

 private:
  friend class DtlsSession;
  explicit DtlsContext(const DtlsConfig& config) : config_(config) {}

  DtlsConfig config_;
  SSL_CTX* ctx_ = nullptr;
};

// One DTLS session with the server. Any error ends it: the caller then drops it
// and makes a new one for the next datagram.
class DtlsSession {
 public:
  using Clock = std::chrono::steady_clock;
  using Transmit = std::function<void(ByteView datagram)>;

  // `context` must outlive the session.
  DtlsSession(DtlsContext& context, Transmit transmit);
  ~DtlsSession();
  DtlsSession(const DtlsSession&) = delete;
  DtlsSession& operator=(const DtlsSession&) = delete;

  // Sends `plaintext` as one record. The first call starts the handshake, and
  // datagrams wait until it is done (the 64 newest; a device retransmits anyway).
  // kTransportFailed on a DTLS error.
  HostResult<void> send(ByteView plaintext);

  // Takes one datagram from the air and appends each record it decrypts to
  // `plaintext`. Records that fail their check are dropped, as DTLS does.
  // kTransportFailed on a fatal alert or when the server closed the session.
  HostResult<void> receive(ByteView datagram, std::vector<std::vector<std::byte>>& plaintext);

  // When the handshake's retransmission timer fires; Clock::time_point::max() when
  // it is not running. on_timer() retransmits, and fails with kTransportTimeout
  // once OpenSSL gives up (after 12 retransmissions).
  Clock::time_point timer() const;
  HostResult<void> on_timer();

  // Ends the session with a close_notify alert.
  void close();

  bool established() const { return established_; }
  std::string cipher() const;

 private:
  // Advances the handshake, then sends what waited and reads what arrived.
  HostResult<void> drive(std::vector<std::vector<std::byte>>* plaintext);
  Error failure(int ssl_error, const char* what);

  friend struct AirBio;
  Transmit transmit_;
  SSL* ssl_ = nullptr;
  std::deque<std::vector<std::byte>> inbox_;    // datagrams from the air, for OpenSSL
  std::deque<std::vector<std::byte>> waiting_;  // plaintext sent before the handshake ended
  bool established_ = false;
};

}  // namespace updraft::sim
