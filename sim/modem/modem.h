// updraft-modem's engine: a stand-in for an NB-IoT modem between an emulated
// device's UART and updraftd.
//
// Device side: a TCP listener on loopback that QEMU connects to as a client
// (-serial tcp:127.0.0.1:PORT). The byte stream is SLIP (agent/link/slip.h): each
// frame from the device becomes one UDP datagram to the server, each datagram
// from the server one frame back. One device at a time; a new connection replaces
// the old one (a restarted emulator) and starts a new session.
//
// Network side: per session one connected UDP socket to --server, optionally
// inside DTLS 1.2 with a pre-shared key (dtls_client.h). Everything the modem
// puts on or takes off the air passes through an AirChannel per direction
// (air_channel.h), which counts it and applies the impairments; with DTLS those
// are the records, handshake and alerts included.
//
// Host only. One thread: run() is a poll loop; nothing blocks.
#pragma once

#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/link/slip.h"
#include "core/host/error.h"
#include "sim/modem/air_channel.h"
#include "sim/modem/dtls_client.h"

namespace updraft::sim {

struct ModemOptions {
  std::string uart_listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
  std::string uart_port_file;               // where the bound port is written
  std::string server;                       // host:port of updraftd's CoAP listener
  std::optional<DtlsConfig> dtls;
  Impairments impairments;
  std::uint64_t seed = 1;
  std::string stats_file;  // rewritten every second and at the end
};

// The figures of the one-line JSON summary (see stats_json()).
struct ModemCounters {
  std::uint64_t sessions = 0;        // device connections
  std::uint64_t uart_rx_bytes = 0;   // SLIP bytes from the device
  std::uint64_t uart_tx_bytes = 0;   // SLIP bytes to the device
  std::uint64_t frames_up = 0;       // frames decoded from the device
  std::uint64_t frames_down = 0;     // frames sent to the device
  std::uint64_t slip_errors = 0;     // overlong frames, bad escapes
  std::uint64_t uart_overflows = 0;  // frames dropped: the device did not read
  std::uint64_t server_errors = 0;   // datagrams the socket refused (e.g. ICMP unreachable)
  std::uint64_t dtls_handshakes = 0;
  std::uint64_t dtls_failures = 0;
};

class Modem {
 public:
  using Clock = std::chrono::steady_clock;

  // Listens on the UART address, writes the port file, resolves the server and
  // prepares DTLS. kIoError for an address that cannot be bound or resolved,
  // kInvalidArgument for a malformed one or a DTLS setting OpenSSL refuses.
  static HostResult<std::unique_ptr<Modem>> open(const ModemOptions& options);
  ~Modem();
  Modem(const Modem&) = delete;
  Modem& operator=(const Modem&) = delete;

  std::uint16_t uart_port() const { return uart_port_; }

  // Serves until `stop` is non-zero or `deadline` passes. Waits with `wait_mask`
  // as the signal mask, so the signals that set `stop` (blocked otherwise) wake
  // it at once. Fails only when polling itself fails.
  HostResult<void> run(const volatile std::sig_atomic_t& stop, const sigset_t& wait_mask,
                       Clock::time_point deadline);

  // One line of JSON: "uptime_ms", the ModemCounters by their names, then
  // "up_datagrams", "up_bytes", "up_dropped", "up_corrupted", "up_overflows" (the
  // AirCounters of device -> server), the same with "down_" (server -> device),
  // and their sums "air_datagrams" and "air_bytes".
  std::string stats_json() const;
  // Writes stats_json() to the stats file, whole (written aside, then renamed).
  void write_stats() const;

 private:
  explicit Modem(const ModemOptions& options);

  void accept_device();
  void read_device(Clock::time_point now);
  void write_device();
  void read_server(Clock::time_point now);
  void deliver_arrivals(Clock::time_point now);
  void frame_from_device(ByteView frame, Clock::time_point now);
  void frame_to_device(ByteView frame);
  void datagram_to_server(ByteView datagram);
  void socket_error(int error, const char* what);
  void dtls_failed(const Error& error);
  void end_session(const std::string& why);

  ModemOptions options_;
  Clock::time_point started_ = Clock::now();
  std::optional<Clock::time_point> stopped_;  // once run() has returned
  ModemCounters counters_;
  AirChannel up_;    // device -> server
  AirChannel down_;  // server -> device

  int listen_fd_ = -1;
  std::uint16_t uart_port_ = 0;
  sockaddr_storage server_address_{};
  socklen_t server_address_length_ = 0;
  mutable bool stats_error_logged_ = false;

  // The session: one device connection.
  int device_fd_ = -1;
  int server_fd_ = -1;
  std::vector<std::byte> frame_buffer_;
  agent::link::SlipDecoder decoder_;
  std::vector<std::byte> to_device_;  // SLIP bytes not yet written
  bool server_error_logged_ = false;
  std::unique_ptr<DtlsContext> dtls_context_;
  std::unique_ptr<DtlsSession> dtls_;
};

}  // namespace updraft::sim
