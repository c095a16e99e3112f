#include "agent/coap/coap_transport.h"

#include <algorithm>
#include <cstring>

#include "core/codec.h"
#include "core/crc32.h"
#include "crypto/hmac_sha256.h"

namespace updraft::agent {
namespace {

using coap::Block;
using coap::Message;
using coap::MessageWriter;

constexpr std::byte kFormat{1};
constexpr std::size_t kMacBytes = 8;

// A little-endian payload built field by field in a caller's buffer.
class PayloadWriter {
 public:
  explicit PayloadWriter(MutableByteView out) : out_(out) {}
  void byte(std::uint8_t v) { put(static_cast<std::byte>(v)); }
  void u16(std::uint16_t v) {
    byte(static_cast<std::uint8_t>(v & 0xFF));
    byte(static_cast<std::uint8_t>(v >> 8));
  }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) byte(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) byte(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void bytes(ByteView data) {
    for (std::byte b : data) put(b);
  }
  // One length byte, then the text up to its NUL (at most `max` bytes).
  void text(const char* s, std::size_t max) {
    std::size_t n = 0;
    while (n < max && s[n] != '\0') ++n;
    byte(static_cast<std::uint8_t>(n));
    bytes(as_bytes_view(s, n));
  }
  // The MAC length and, with a key, the first 8 bytes of HMAC-SHA256 over all so far.
  void mac(ByteView key) {
    if (key.empty()) {
      byte(0);
      return;
    }
    const Sha256Digest digest = HmacSha256::mac(key, ByteView(out_.data(), size_));
    byte(kMacBytes);
    bytes(ByteView(digest.data(), kMacBytes));
  }
  bool ok() const { return !overflow_; }
  ByteView view() const { return ByteView(out_.data(), size_); }

 private:
  void put(std::byte b) {
    if (size_ >= out_.size()) {
      overflow_ = true;
      return;
    }
    out_[size_++] = b;
  }

  MutableByteView out_;
  std::size_t size_ = 0;
  bool overflow_ = false;
};

// Reads the check-in answer field by field; every read checks the length left.
class PayloadReader {
 public:
  explicit PayloadReader(ByteView in) : in_(in) {}
  bool byte(std::uint8_t& v) {
    if (at_ + 1 > in_.size()) return false;
    v = std::to_integer<std::uint8_t>(in_[at_++]);
    return true;
  }
  bool u16(std::uint16_t& v) {
    if (at_ + 2 > in_.size()) return false;
    v = load_le16(in_.data() + at_);
    at_ += 2;
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (at_ + 4 > in_.size()) return false;
    v = load_le32(in_.data() + at_);
    at_ += 4;
    return true;
  }
  bool take(std::size_t n, ByteView& out) {
    if (n > in_.size() - at_) return false;
    out = in_.subspan(at_, n);
    at_ += n;
    return true;
  }
  bool done() const { return at_ == in_.size(); }

 private:
  ByteView in_;
  std::size_t at_ = 0;
};

std::uint8_t response_class(const Message& m) { return m.code >> 5; }

// The deployment id in an artifact reference: its digits but the last six.
std::uint32_t deployment_of_ref(const char* ref) {
  std::size_t n = std::strlen(ref);
  if (n <= 6) return 0;
  std::uint32_t id = 0;
  for (std::size_t i = 0; i + 6 < n; ++i) {
    if (ref[i] < '0' || ref[i] > '9') return 0;
    id = id * 10 + static_cast<std::uint32_t>(ref[i] - '0');
  }
  return id;
}

}  // namespace

CoapTransport::CoapTransport(Datagram& link, const CoapOptions& options,
                             std::uint16_t first_message_id)
    : link_(link), options_(options), next_message_id_(first_message_id) {
  const std::uint8_t szx = coap::szx_for(options_.block_size);
  // 64..1024 (SZX 2..6): smaller blocks cost more headers than they save.
  szx_ = szx >= 2 && szx <= 6 ? szx : 6;
}

void CoapTransport::acknowledge(const Message& response) {
  if (response.type != coap::Type::kConfirmable) return;
  std::array<std::byte, 4> ack{};
  MessageWriter w(ack);
  if (w.header(coap::Type::kAck, 0, response.message_id, {}).ok()) {
    counters_.bytes_sent += w.size();
    (void)link_.send(w.bytes());
  }
}

Result<Message> CoapTransport::await(std::uint16_t message_id, std::uint8_t token) {
  // Anything else that arrives (a late duplicate of an earlier answer, noise)
  // is skipped, within the same overall timeout.
  for (int skipped = 0; skipped < 8; ++skipped) {
    Result<std::size_t> got = link_.receive(rx_, options_.timeout_ms);
    if (!got.ok()) return got.error();
    counters_.bytes_received += *got;
    Result<Message> m = coap::parse(ByteView(rx_.data(), *got));
    if (!m.ok()) continue;
    const bool our_token = m->token.size() == 1 && m->token[0] == std::byte{token};
    if (m->type == coap::Type::kReset && m->message_id == message_id)
      return ErrorCode::kCheckInRejected;
    if (m->type == coap::Type::kAck && m->message_id == message_id && m->code == 0) {
      // An empty ACK: the answer comes later as its own message.
      continue;
    }
    if (!our_token || m->code == 0) continue;
    if (m->type == coap::Type::kAck && m->message_id != message_id) continue;
    acknowledge(*m);
    return m;
  }
  return ErrorCode::kTransportTimeout;
}

Result<Message> CoapTransport::exchange(std::uint8_t code, const char* path, const char* ref,
                                        const Block* block, ByteView payload,
                                        std::uint8_t attempts) {
  const std::uint16_t message_id = next_message_id_++;
  const auto token = static_cast<std::uint8_t>(message_id);
  block_valid_ = false;  // rx_ is about to be overwritten
  MessageWriter w(tx_);
  const std::byte token_bytes[1] = {std::byte{token}};
  UPDRAFT_TRY(w.header(coap::Type::kConfirmable, code, message_id, ByteView(token_bytes, 1)));
  UPDRAFT_TRY(w.option(coap::kUriPath, as_bytes_view(path, std::strlen(path))));
  if (ref != nullptr) UPDRAFT_TRY(w.option(coap::kUriPath, as_bytes_view(ref, std::strlen(ref))));
  if (block != nullptr) UPDRAFT_TRY(w.option_uint(coap::kBlock2, block->value()));
  UPDRAFT_TRY(w.payload(payload));
  ++counters_.requests;
  ErrorCode last = ErrorCode::kTransportTimeout;
  for (std::uint8_t attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) ++counters_.retransmissions;
    counters_.bytes_sent += w.size();
    if (Result<void> sent = link_.send(w.bytes()); !sent.ok()) {
      last = sent.error();
      continue;
    }
    Result<Message> m = await(message_id, token);
    if (m.ok()) return m;
    last = m.error();
    if (last == ErrorCode::kTransportTimeout) ++counters_.timeouts;
    if (last != ErrorCode::kTransportTimeout) break;
  }
  return last;
}

Result<void> CoapTransport::check_in(const DeviceStatus& status, CheckInAnswer& answer) {
  std::array<std::byte, 160> body{};
  PayloadWriter p(body);
  p.byte(1);
  p.text(options_.device_id, 64);
  p.u64(status.nonce);
  p.byte(status.slot);
  p.byte(status.battery_percent);
  p.byte(static_cast<std::uint8_t>(status.network));
  p.bytes(status.image_hash);
  p.text(status.version.data(), status.version.size() - 1);
  p.mac(options_.mac_key);
  if (!p.ok()) return ErrorCode::kTransportMalformed;

  UPDRAFT_TRY_ASSIGN(Message m,
                     exchange(coap::kPost, "c", nullptr, nullptr, p.view(), options_.max_attempts));
  if (response_class(m) != 2) return ErrorCode::kCheckInRejected;
  PayloadReader r(m.payload);
  std::uint8_t format = 0, flags = 0, kind = 0, ref_length = 0;
  std::uint32_t poll = 0;
  if (!r.byte(format) || format != std::to_integer<std::uint8_t>(kFormat) || !r.byte(flags) ||
      !r.u32(poll)) {
    return ErrorCode::kTransportMalformed;
  }
  // Field by field: `answer = CheckInAnswer{}` builds a 1.2 KB temporary on the
  // stack. The arrays are meaningful only up to artifact's NUL and manifest_size.
  answer.update_available = false;
  answer.kind = ArtifactKind::kFullImage;
  answer.artifact[0] = '\0';
  answer.artifact_size = 0;
  answer.manifest_size = 0;
  answer.poll_seconds = poll;
  answer.force = (flags & 0x02) != 0;
  if ((flags & 0x01) == 0) return r.done() ? Result<void>{} : ErrorCode::kTransportMalformed;
  std::uint32_t size = 0;
  std::uint16_t manifest_length = 0;
  ByteView ref, manifest;
  if (!r.byte(kind) || (kind != 1 && kind != 2) || !r.u32(size) || !r.byte(ref_length) ||
      ref_length == 0 || ref_length >= answer.artifact.size() || !r.take(ref_length, ref) ||
      !r.u16(manifest_length) || manifest_length > answer.manifest.size() ||
      !r.take(manifest_length, manifest) || !r.done()) {
    return ErrorCode::kTransportMalformed;
  }
  for (std::byte c : ref) {
    if (c < std::byte{'0'} || c > std::byte{'9'}) return ErrorCode::kTransportMalformed;
  }
  answer.update_available = true;
  answer.kind = static_cast<ArtifactKind>(kind);
  answer.artifact_size = size;
  std::memcpy(answer.artifact.data(), ref.data(), ref.size());
  answer.artifact[ref.size()] = '\0';
  answer.manifest_size = manifest_length;
  std::memcpy(answer.manifest.data(), manifest.data(), manifest.size());
  deployment_ = deployment_of_ref(answer.artifact.data());
  return {};
}

Result<std::size_t> CoapTransport::fetch(const char* artifact, std::uint32_t offset,
                                         MutableByteView out) {
  const std::uint32_t block_size = 16u << szx_;
  const std::uint32_t num = offset / block_size;
  const bool cached = block_valid_ && block_num_ == num &&
                      std::strncmp(block_ref_.data(), artifact, block_ref_.size()) == 0;
  if (!cached) {
    const Block want{num, false, szx_};
    UPDRAFT_TRY_ASSIGN(Message m, exchange(coap::kGet, "a", artifact, &want, {}, 1));
    if (response_class(m) != 2) {
      // 4.04: nobody gave us this reference (any more); the agent starts over.
      return response_class(m) == 4 ? ErrorCode::kCheckInRejected : ErrorCode::kTransportFailed;
    }
    ByteView value;
    Block got;
    if (!coap::find_option(m, coap::kBlock2, value) || !coap::decode_block(value, got))
      return ErrorCode::kTransportMalformed;
    ByteView crc;
    // A block must be the one asked for, of the size asked for (the server may
    // only shrink it), with a CRC that matches what arrived.
    const bool right = got.num * got.size() == num * block_size && got.szx <= szx_ &&
                       coap::find_option(m, coap::kBlockCrc32, crc) && crc.size() == 4 &&
                       load_le32(crc.data()) == crc32(m.payload) &&
                       (m.payload.size() == got.size() || !got.more) &&
                       m.payload.size() <= got.size();
    if (!right) {
      ++counters_.bad_blocks;
      return ErrorCode::kTransportBlockCorrupt;
    }
    if (got.szx < szx_) szx_ = got.szx;  // the server's limit holds from now on
    block_valid_ = true;
    block_num_ = offset / got.size();
    block_at_ = static_cast<std::size_t>(m.payload.data() - rx_.data());
    block_length_ = m.payload.size();
    std::strncpy(block_ref_.data(), artifact, block_ref_.size() - 1);
    block_ref_.back() = '\0';
    if (got.size() != block_size) return fetch(artifact, offset, out);
  }
  const std::uint32_t start = block_num_ * (16u << szx_);
  const std::size_t skip = offset - start;
  if (skip >= block_length_) return std::size_t{0};  // past the last byte
  const std::size_t n = std::min(out.size(), block_length_ - skip);
  std::memcpy(out.data(), rx_.data() + block_at_ + skip, n);
  return n;
}

Result<void> CoapTransport::report(const Report& report) {
  std::array<std::byte, 128> body{};
  PayloadWriter p(body);
  p.byte(1);
  p.text(options_.device_id, 64);
  p.u32(deployment_);
  p.byte(static_cast<std::uint8_t>(report.phase));
  p.byte(report.progress_percent);
  p.u16(report.error);
  p.text(report.running.data(), report.running.size() - 1);
  p.mac(options_.mac_key);
  if (!p.ok()) return ErrorCode::kTransportMalformed;
  UPDRAFT_TRY_ASSIGN(Message m,
                     exchange(coap::kPost, "r", nullptr, nullptr, p.view(), options_.max_attempts));
  // 4.09 Conflict: the deployment is already final, nothing left to tell.
  if (response_class(m) == 2 || m.code == coap::code(4, 9)) return {};
  return ErrorCode::kCheckInRejected;
}

}  // namespace updraft::agent
