// The agent's Transport over CoAP (docs/formats/coap.md): check-ins and reports
// as confirmable POSTs with compact binary payloads, the artifact fetched one
// block at a time with Block2, each block checked for its number and its CRC-32
// option. Portable, no heap; the same code runs on a microcontroller (over a
// SLIP-framed UART) and on hosts (over UDP: updraft-sim, updraft-agent).
//
// Retries: a check-in or report is sent up to `max_attempts` times, each after
// `timeout_ms` without an answer (the same message id, so the server answers a
// duplicate once). A block request is one attempt per fetch(): a timeout
// (kTransportTimeout) or a bad block (kTransportBlockCorrupt) goes back to the
// agent, which asks again and gives up after three failures in a row.
//
// RAM: sizeof(CoapTransport) ~ 1.5 KB with 1024-byte blocks (a receive buffer
// that also holds the current block, a send buffer, counters); stack < 600 bytes
// (a check-in builds its payload on the stack). Not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "agent/coap/coap_message.h"
#include "agent/port/datagram.h"
#include "agent/port/transport.h"

namespace updraft::agent {

struct CoapOptions {
  const char* device_id = "";  // 1..64 bytes; must outlive the transport
  // The MAC key for plain UDP: the 64 hex characters of SHA-256(device secret).
  // Empty over DTLS, where the session says who is asking.
  ByteView mac_key;
  std::uint32_t block_size = 1024;  // 64..1024, a power of two
  std::uint32_t timeout_ms = 4000;  // per attempt
  std::uint8_t max_attempts = 3;    // for check-ins and reports
};

// What went over the link, for logs, tests and the bytes-on-air figures.
struct CoapCounters {
  std::uint32_t requests = 0;
  std::uint32_t retransmissions = 0;
  std::uint32_t timeouts = 0;
  std::uint32_t bad_blocks = 0;  // wrong number or CRC
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
};

class CoapTransport final : public Transport {
 public:
  static constexpr std::size_t kMaxDatagram = 1024 + 64;

  // `link` must outlive this; `first_message_id` should differ across boots
  // (e.g. from the device's Random) so a server's duplicate detection never
  // mistakes a new request for an old one.
  CoapTransport(Datagram& link, const CoapOptions& options, std::uint16_t first_message_id);

  Result<void> check_in(const DeviceStatus& status, CheckInAnswer& answer) override;
  Result<std::size_t> fetch(const char* artifact, std::uint32_t offset,
                            MutableByteView out) override;
  Result<void> report(const Report& report) override;
  // The block size in use (the server may lower it on the first block), so the
  // agent journals every block and stages patches (agent/agent.h).
  std::uint32_t block_size() const override { return 16u << szx_; }

  // The deployment the last check-in offered (0: none; reports then name the
  // device's open deployment).
  std::uint32_t deployment() const { return deployment_; }
  void set_deployment(std::uint32_t deployment) { deployment_ = deployment; }
  const CoapCounters& counters() const { return counters_; }

 private:
  // Sends a confirmable request (a fresh message id and token) and waits for its
  // piggybacked or separate response, retransmitting up to `attempts` times.
  // On success `response` views rx_.
  Result<coap::Message> exchange(std::uint8_t code, const char* path, const char* ref,
                                 const coap::Block* block, ByteView payload, std::uint8_t attempts);
  Result<coap::Message> await(std::uint16_t message_id, std::uint8_t token);
  void acknowledge(const coap::Message& response);

  Datagram& link_;
  CoapOptions options_;
  std::uint8_t szx_ = 6;
  std::uint16_t next_message_id_;
  std::uint32_t deployment_ = 0;
  CoapCounters counters_;
  // The block last received, still in rx_: fetch() serves from it while the agent
  // reads the block in pieces.
  bool block_valid_ = false;
  std::uint32_t block_num_ = 0;
  std::size_t block_length_ = 0;
  std::size_t block_at_ = 0;  // payload offset in rx_
  std::array<char, kMaxArtifactRef> block_ref_{};
  std::array<std::byte, kMaxDatagram> rx_{};
  std::array<std::byte, 256> tx_{};
};

}  // namespace updraft::agent
