// CoapTransport against an in-process server that answers as docs/formats/coap.md
// says, over a datagram link that can lose, corrupt and repeat datagrams. The
// real updraftd is the peer in tests/integration/coap_test.cpp; here the link's
// faults are exact, so each retry rule is shown on its own.
#include "agent/coap/coap_transport.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "core/codec.h"
#include "core/crc32.h"
#include "crypto/hmac_sha256.h"

namespace updraft::agent {
namespace {

using Bytes = std::vector<std::byte>;
using coap::Message;

Bytes artifact_bytes(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>(i * 31 + 7);
  return b;
}

// The server side of the doc, enough to exercise the client, plus link faults.
class FakeLink final : public Datagram {
 public:
  explicit FakeLink(Bytes artifact) : artifact_(std::move(artifact)) {}

  Result<void> send(ByteView datagram) override {
    ++sent_;
    if (drop_next_sends_ > 0) {
      --drop_next_sends_;
      return {};
    }
    Result<Message> m = coap::parse(datagram);
    if (!m.ok() || m->type == coap::Type::kAck) return {};
    requests_.emplace_back(datagram.begin(), datagram.end());
    Bytes reply = answer(*m);
    if (corrupt_next_block_ && !reply.empty() && last_was_block_) {
      corrupt_next_block_ = false;
      reply.back() ^= std::byte{0x01};
    }
    if (send_stale_first_) {
      send_stale_first_ = false;
      Bytes stale = reply;
      stale[2] ^= std::byte{0x40};  // another message id: a late answer to something else
      stale[4] ^= std::byte{0x40};  // and another token
      queue_.push_back(stale);
    }
    queue_.push_back(std::move(reply));
    return {};
  }

  Result<std::size_t> receive(MutableByteView out, std::uint32_t) override {
    if (queue_.empty()) return ErrorCode::kTransportTimeout;
    const Bytes d = std::move(queue_.front());
    queue_.pop_front();
    const std::size_t n = std::min(out.size(), d.size());
    std::memcpy(out.data(), d.data(), n);
    return n;
  }

  Bytes artifact_;
  int drop_next_sends_ = 0;
  bool corrupt_next_block_ = false;
  bool wrong_block_number_ = false;
  bool send_stale_first_ = false;
  bool offer_update_ = true;
  bool deployment_final_ = false;  // reports answered 4.09 Conflict
  std::uint8_t max_szx_ = 6;
  Bytes mac_key_;
  int sent_ = 0;
  std::vector<Bytes> requests_;
  std::vector<Bytes> check_in_payloads_;
  std::vector<Bytes> report_payloads_;
  int blocks_served_ = 0;

 private:
  std::string path(const Message& m) {
    std::string out;
    // Walk Uri-Path options by re-encoding is overkill: the client sends one or two.
    ByteView v;
    if (coap::find_option(m, coap::kUriPath, v))
      out.assign(reinterpret_cast<const char*>(v.data()), v.size());
    return out;
  }

  Bytes respond(const Message& m, std::uint8_t code_value,
                const std::function<void(coap::MessageWriter&)>& options, ByteView payload) {
    std::array<std::byte, 2048> buffer{};
    coap::MessageWriter w(buffer);
    EXPECT_TRUE(w.header(coap::Type::kAck, code_value, m.message_id, m.token).ok());
    if (options) options(w);
    EXPECT_TRUE(w.payload(payload).ok());
    return Bytes(w.bytes().begin(), w.bytes().end());
  }

  bool mac_ok(ByteView payload) {
    if (payload.empty()) return false;
    const std::size_t mac_length = mac_key_.empty() ? 0 : 8;
    if (payload.size() < 1 + mac_length) return false;
    const std::size_t body = payload.size() - 1 - mac_length;
    if (std::to_integer<std::size_t>(payload[body]) != mac_length) return false;
    if (mac_length == 0) return true;
    const Sha256Digest d = HmacSha256::mac(mac_key_, payload.subspan(0, body));
    return std::memcmp(d.data(), payload.data() + body + 1, 8) == 0;
  }

  Bytes answer(const Message& m) {
    last_was_block_ = false;
    const std::string p = path(m);
    if (p == "c") {
      check_in_payloads_.emplace_back(m.payload.begin(), m.payload.end());
      if (!mac_ok(m.payload)) return respond(m, coap::code(4, 1), nullptr, {});
      Bytes out = {std::byte{1}, std::byte{offer_update_ ? std::byte{3} : std::byte{0}}};
      out.resize(6);
      store_le32(out.data() + 2, 77);
      if (offer_update_) {
        out.push_back(std::byte{2});
        out.resize(out.size() + 4);
        store_le32(out.data() + out.size() - 4, static_cast<std::uint32_t>(artifact_.size()));
        const std::string ref = "42123456";
        out.push_back(static_cast<std::byte>(ref.size()));
        for (char c : ref) out.push_back(static_cast<std::byte>(c));
        const Bytes manifest(300, std::byte{0x5a});
        out.resize(out.size() + 2);
        store_le16(out.data() + out.size() - 2, static_cast<std::uint16_t>(manifest.size()));
        out.insert(out.end(), manifest.begin(), manifest.end());
      }
      return respond(m, coap::kContent, nullptr, out);
    }
    if (p == "r") {
      report_payloads_.emplace_back(m.payload.begin(), m.payload.end());
      if (!mac_ok(m.payload)) return respond(m, coap::code(4, 1), nullptr, {});
      return respond(m, deployment_final_ ? coap::code(4, 9) : coap::kChanged, nullptr, {});
    }
    if (p == "a") {
      ByteView v;
      coap::Block want;
      if (!coap::find_option(m, coap::kBlock2, v) || !coap::decode_block(v, want))
        return respond(m, coap::code(4, 0), nullptr, {});
      const std::uint8_t szx = std::min(want.szx, max_szx_);
      const std::uint32_t size = 16u << szx;
      const std::uint32_t start = want.num * want.size();
      const std::uint32_t num = start / size;
      const std::size_t from = std::min<std::size_t>(start, artifact_.size());
      const std::size_t n = std::min<std::size_t>(size, artifact_.size() - from);
      const ByteView payload(artifact_.data() + from, n);
      const bool more = from + n < artifact_.size();
      const coap::Block block{wrong_block_number_ ? num + 1 : num, more, szx};
      wrong_block_number_ = false;
      ++blocks_served_;
      last_was_block_ = true;
      std::byte crc[4];
      store_le32(crc, crc32(payload));
      return respond(
          m, coap::kContent,
          [&](coap::MessageWriter& w) {
            EXPECT_TRUE(w.option_uint(coap::kBlock2, block.value()).ok());
            EXPECT_TRUE(w.option(coap::kBlockCrc32, ByteView(crc, 4)).ok());
          },
          payload);
    }
    return respond(m, coap::code(4, 4), nullptr, {});
  }

  std::deque<Bytes> queue_;
  bool last_was_block_ = false;
};

class CoapTransportTest : public ::testing::Test {
 protected:
  CoapTransport make(std::uint32_t block_size = 1024) {
    options_.device_id = "meter-17";
    options_.block_size = block_size;
    options_.timeout_ms = 10;
    return CoapTransport(link_, options_, 100);
  }
  DeviceStatus status() {
    DeviceStatus s;
    std::strcpy(s.version.data(), "1.0.0");
    s.nonce = 0x0102030405060708;
    s.network = NetworkType::kNbIot;
    return s;
  }
  // Reads the whole artifact the way the agent does: 512 bytes at a time.
  Result<Bytes> read_all(CoapTransport& t, const char* ref, std::size_t size) {
    Bytes out;
    std::array<std::byte, 512> chunk{};
    while (out.size() < size) {
      UPDRAFT_TRY_ASSIGN(std::size_t n,
                         t.fetch(ref, static_cast<std::uint32_t>(out.size()), chunk));
      if (n == 0) break;
      out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    }
    return out;
  }

  FakeLink link_{artifact_bytes(5000)};
  CoapOptions options_;
};

TEST_F(CoapTransportTest, ACheckInCarriesTheDocumentedFieldsAndReadsTheStartRecord) {
  CoapTransport t = make();
  CheckInAnswer answer;
  ASSERT_TRUE(t.check_in(status(), answer).ok());
  ASSERT_TRUE(answer.update_available);
  EXPECT_EQ(answer.kind, ArtifactKind::kPatch);
  EXPECT_EQ(answer.artifact_size, 5000u);
  EXPECT_STREQ(answer.artifact.data(), "42123456");
  EXPECT_EQ(answer.manifest_size, 300u);
  EXPECT_EQ(answer.poll_seconds, 77u);
  EXPECT_TRUE(answer.force);
  EXPECT_EQ(t.deployment(), 42u);
  const Bytes& sent = link_.check_in_payloads_.at(0);
  // format, id, nonce, slot, battery, network, hash, version, MAC length 0 (no key).
  ASSERT_EQ(sent.size(), 1u + 1 + 8 + 8 + 3 + 32 + 1 + 5 + 1);
  EXPECT_EQ(sent[0], std::byte{1});
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sent.data() + 2), 8), "meter-17");
  EXPECT_EQ(load_le64(sent.data() + 10), 0x0102030405060708u);
  EXPECT_EQ(sent[20], std::byte{4});
  EXPECT_EQ(sent.back(), std::byte{0});
}

TEST_F(CoapTransportTest, WithAKeyEveryCheckInAndReportIsMacked) {
  link_.mac_key_ = Bytes(64, std::byte{'a'});
  options_.mac_key = link_.mac_key_;
  CoapTransport t = make();
  CheckInAnswer answer;
  ASSERT_TRUE(t.check_in(status(), answer).ok()) << "the fake server checks the MAC";
  Report r;
  r.phase = Phase::kDownloading;
  ASSERT_TRUE(t.report(r).ok());
  const Bytes wrong_key(64, std::byte{'b'});  // options hold a view: keep it alive
  options_.mac_key = wrong_key;
  CoapTransport wrong = make();
  EXPECT_EQ(wrong.check_in(status(), answer).error(), ErrorCode::kCheckInRejected);
}

TEST_F(CoapTransportTest, NoUpdateIsJustFlagsAndPoll) {
  link_.offer_update_ = false;
  CoapTransport t = make();
  CheckInAnswer answer;
  ASSERT_TRUE(t.check_in(status(), answer).ok());
  EXPECT_FALSE(answer.update_available);
  EXPECT_EQ(answer.poll_seconds, 77u);
}

TEST_F(CoapTransportTest, ALostRequestIsSentAgainWithTheSameMessageId) {
  link_.drop_next_sends_ = 2;
  CoapTransport t = make();
  CheckInAnswer answer;
  ASSERT_TRUE(t.check_in(status(), answer).ok());
  EXPECT_EQ(t.counters().retransmissions, 2u);
  EXPECT_EQ(t.counters().timeouts, 2u);
  EXPECT_EQ(link_.sent_, 3);
  link_.drop_next_sends_ = 3;
  EXPECT_EQ(t.check_in(status(), answer).error(), ErrorCode::kTransportTimeout)
      << "three attempts, then the agent decides";
}

TEST_F(CoapTransportTest, TheArtifactComesBlockByBlockEachAskedOnce) {
  for (std::uint32_t block : {64u, 256u, 1024u}) {
    link_.blocks_served_ = 0;
    CoapTransport t = make(block);
    Result<Bytes> got = read_all(t, "42123456", 5000);
    ASSERT_TRUE(got.ok()) << block;
    EXPECT_EQ(*got, link_.artifact_) << block;
    EXPECT_EQ(link_.blocks_served_, static_cast<int>((5000 + block - 1) / block)) << block;
  }
}

TEST_F(CoapTransportTest, ACorruptedOrMisnumberedBlockIsRefusedAndTheNextTryGetsIt) {
  CoapTransport t = make();
  std::array<std::byte, 512> chunk{};
  link_.corrupt_next_block_ = true;
  EXPECT_EQ(t.fetch("42123456", 0, chunk).error(), ErrorCode::kTransportBlockCorrupt);
  link_.wrong_block_number_ = true;
  EXPECT_EQ(t.fetch("42123456", 0, chunk).error(), ErrorCode::kTransportBlockCorrupt);
  EXPECT_EQ(t.counters().bad_blocks, 2u);
  Result<Bytes> got = read_all(t, "42123456", 5000);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, link_.artifact_);
}

TEST_F(CoapTransportTest, AServerThatAllowsSmallerBlocksIsFollowed) {
  link_.max_szx_ = 3;  // 128 bytes
  CoapTransport t = make(1024);
  Result<Bytes> got = read_all(t, "42123456", 5000);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, link_.artifact_);
  EXPECT_EQ(link_.blocks_served_, (5000 + 127) / 128);
}

TEST_F(CoapTransportTest, ItTellsTheAgentItsBlockSizeSoEveryBlockIsJournaled) {
  // Through the port, as the agent asks: 0 would mean a stream (no staging, a
  // journal record only every 32 KiB).
  CoapTransport t = make(256);
  const Transport& port = t;
  EXPECT_EQ(port.block_size(), 256u);
  link_.max_szx_ = 3;  // 128 bytes
  CoapTransport limited = make(1024);
  std::array<std::byte, 512> chunk{};
  ASSERT_TRUE(limited.fetch("42123456", 0, chunk).ok());
  EXPECT_EQ(static_cast<const Transport&>(limited).block_size(), 128u);
}

TEST_F(CoapTransportTest, AReportOnAFinishedDeploymentHasNothingLeftToTell) {
  // docs/formats/coap.md: 4.09 Conflict. A rolled-back meter repeats its rollback
  // after the revert, when the first report already closed the deployment.
  link_.deployment_final_ = true;
  CoapTransport t = make();
  Report r;
  r.phase = Phase::kRolledBack;
  EXPECT_TRUE(t.report(r).ok());
}

TEST_F(CoapTransportTest, AStaleAnswerToAnotherRequestIsIgnored) {
  link_.send_stale_first_ = true;
  CoapTransport t = make();
  CheckInAnswer answer;
  ASSERT_TRUE(t.check_in(status(), answer).ok());
  EXPECT_TRUE(answer.update_available);
}

TEST_F(CoapTransportTest, AReportNamesTheDeploymentPhaseProgressAndError) {
  CoapTransport t = make();
  CheckInAnswer answer;
  ASSERT_TRUE(t.check_in(status(), answer).ok());
  Report r;
  r.phase = Phase::kFailure;
  r.progress_percent = 55;
  r.error = 107;
  std::strcpy(r.running.data(), "1.0.0");
  ASSERT_TRUE(t.report(r).ok());
  const Bytes& p = link_.report_payloads_.at(0);
  EXPECT_EQ(load_le32(p.data() + 2 + 8), 42u);
  EXPECT_EQ(p[14], std::byte{6});
  EXPECT_EQ(p[15], std::byte{55});
  EXPECT_EQ(load_le16(p.data() + 16), 107);
}

}  // namespace
}  // namespace updraft::agent
