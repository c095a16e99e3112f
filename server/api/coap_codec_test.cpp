// The CoAP payloads of docs/formats/coap.md: the documented bytes exactly (known
// answers computed apart from this code, MAC included), round trips, every
// truncation and every out-of-range field refused with the field's name, and a
// MAC that fails for any other byte, key or MAC.
#include "server/api/coap_codec.h"

#include <gtest/gtest.h>

#include "core/host/hex.h"
#include "server/services/credentials.h"

namespace updraft::server::api {
namespace {

using Bytes = std::vector<std::byte>;

// SHA-256("secret-of-meter-7") as hex: the device's key for PSK and MAC.
const std::string kKey = secret_hash("secret-of-meter-7");

Bytes hex(std::string_view text) { return *from_hex(text); }

CoapCheckIn sample_check_in() {
  CoapCheckIn in;
  in.sender.device.value = "meter-7";
  in.request.nonce = 0x0102030405060708;
  in.request.status.slot = 1;
  in.request.status.battery_percent = 80;
  in.request.status.network = "nbiot";
  in.request.status.image_sha256 =
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  in.request.status.version = "1.2.3";
  return in;
}

CoapReport sample_report() {
  CoapReport r;
  r.sender.device.value = "meter-7";
  r.deployment = 42;
  r.report.phase = "failure";
  r.report.progress = -1;
  r.report.error = 521;
  r.report.running_version = "1.2.3";
  return r;
}

CoapCheckInAnswer sample_answer() {
  CoapCheckInAnswer a;
  a.update = true;
  a.forced = true;
  a.poll_seconds = 60;
  a.kind = kCoapArtifactPatch;
  a.artifact_size = 70000;
  a.ref = "12345678";
  a.manifest.assign(300, std::byte{0xab});
  return a;
}

// Every refusal is BAD_REQUEST with a message that starts with a field name.
template <typename T>
void expect_refused(const HostResult<T>& r, std::string_view field, const std::string& context) {
  ASSERT_FALSE(r.ok()) << context;
  EXPECT_EQ(r.error().code, ErrorCode::kApiBadRequest) << context;
  EXPECT_EQ(r.error().message.rfind(std::string(field) + ":", 0), 0u)
      << context << ": " << r.error().message;
}

template <typename T, typename Decode>
void expect_every_truncation_refused(const Bytes& whole, Decode decode) {
  for (std::size_t n = 0; n < whole.size(); ++n) {
    const HostResult<T> r = decode(ByteView(whole.data(), n));
    ASSERT_FALSE(r.ok()) << "cut at " << n << " of " << whole.size();
    EXPECT_EQ(r.error().code, ErrorCode::kApiBadRequest);
    EXPECT_NE(r.error().message.find(':'), std::string::npos) << r.error().message;
  }
  Bytes longer = whole;
  longer.push_back(std::byte{0});
  expect_refused(decode(longer), "payload", "one byte too many");
}

TEST(CoapCodecTest, ACheckInIsTheDocumentsBytesWithItsMac) {
  const Bytes expected = hex(
      "01076d657465722d370807060504030201015004000102030405060708090a0b0c0d0e0f101112131415161718"
      "191a1b1c1d1e1f05312e322e3308b7201146bddf8253");
  EXPECT_EQ(coap_check_in_to_bytes(sample_check_in(), kKey), expected);
  HostResult<CoapCheckIn> in = coap_check_in_from_bytes(expected);
  ASSERT_TRUE(in.ok()) << in.error().to_string();
  EXPECT_EQ(in->sender.device.value, "meter-7");
  EXPECT_EQ(in->request.nonce, 0x0102030405060708u);
  EXPECT_EQ(in->request.status.slot, 1);
  EXPECT_EQ(in->request.status.battery_percent, 80);
  EXPECT_EQ(in->request.status.network, "nbiot");
  EXPECT_EQ(in->request.status.image_sha256, sample_check_in().request.status.image_sha256);
  EXPECT_EQ(in->request.status.version, "1.2.3");
  EXPECT_EQ(in->request.channel, "");
  EXPECT_EQ(in->sender.mac_covers, expected.size() - 9);
  EXPECT_TRUE(coap_mac_matches(expected, in->sender, kKey));
  EXPECT_EQ(coap_check_in_to_bytes(*in), expected);
}

TEST(CoapCodecTest, AReportIsTheDocumentsBytesWithItsMac) {
  const Bytes expected = hex("01076d657465722d372a00000006ff090205312e322e33082f2af3b29a30be0c");
  EXPECT_EQ(coap_report_to_bytes(sample_report(), kKey), expected);
  HostResult<CoapReport> r = coap_report_from_bytes(expected);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->deployment, 42u);
  EXPECT_EQ(r->report.phase, "failure");
  EXPECT_EQ(r->report.progress, -1);
  EXPECT_EQ(r->report.error, 521);
  EXPECT_EQ(r->report.running_version, "1.2.3");
  EXPECT_TRUE(coap_mac_matches(expected, r->sender, kKey));
}

TEST(CoapCodecTest, CheckInsRoundTripOverTheirRanges) {
  for (const char* network : {"", "wifi", "ethernet", "cellular", "nbiot"}) {
    for (int battery : {-1, 0, 100}) {
      for (const std::string& version : {std::string(), std::string(23, 'v')}) {
        for (const std::string& device : {std::string("a"), std::string(64, 'd')}) {
          CoapCheckIn in = sample_check_in();
          in.sender.device.value = device;
          in.request.status.network = network;
          in.request.status.battery_percent = battery;
          in.request.status.version = version;
          in.request.nonce = ~std::uint64_t{0};
          for (const bool sealed : {false, true}) {
            const Bytes bytes =
                sealed ? coap_check_in_to_bytes(in, kKey) : coap_check_in_to_bytes(in);
            HostResult<CoapCheckIn> back = coap_check_in_from_bytes(bytes);
            ASSERT_TRUE(back.ok()) << back.error().to_string();
            EXPECT_EQ(back->sender.device, in.sender.device);
            EXPECT_EQ(back->request.status.network, network);
            EXPECT_EQ(back->request.status.battery_percent, battery);
            EXPECT_EQ(back->request.status.version, version);
            EXPECT_EQ(back->request.nonce, in.request.nonce);
            EXPECT_EQ(back->sender.mac.has_value(), sealed);
            EXPECT_EQ(coap_check_in_to_bytes(*back), bytes);
          }
        }
      }
    }
  }
}

TEST(CoapCodecTest, ReportsRoundTripForEveryPhase) {
  const char* phases[] = {"downloading", "verifying", "installing",  "rebooting",
                          "success",     "failure",   "rolled_back", "deferred"};
  for (std::size_t i = 0; i < 8; ++i) {
    for (int progress : {-1, 0, 100}) {
      for (std::uint32_t deployment : {0u, 7u, 0xffffffffu}) {
        CoapReport r = sample_report();
        r.report.phase = phases[i];
        r.report.progress = progress;
        r.report.error = 65535;
        r.deployment = deployment;
        const Bytes bytes = coap_report_to_bytes(r, kKey);
        EXPECT_EQ(std::to_integer<int>(bytes[1 + 1 + 7 + 4]), static_cast<int>(i + 1));
        HostResult<CoapReport> back = coap_report_from_bytes(bytes);
        ASSERT_TRUE(back.ok()) << back.error().to_string();
        EXPECT_EQ(back->report.phase, phases[i]);
        EXPECT_EQ(back->report.progress, progress);
        EXPECT_EQ(back->report.error, 65535);
        EXPECT_EQ(back->deployment, deployment);
        EXPECT_EQ(coap_report_to_bytes(*back), bytes);
      }
    }
  }
}

TEST(CoapCodecTest, AnswersRoundTripWithAndWithoutAnUpdate) {
  CoapCheckInAnswer none;
  none.poll_seconds = 3600;
  const Bytes idle = *coap_answer_to_bytes(none);
  EXPECT_EQ(idle, hex("0100100e0000"));
  HostResult<CoapCheckInAnswer> back = coap_answer_from_bytes(idle);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->update);
  EXPECT_EQ(back->poll_seconds, 3600u);

  for (std::size_t manifest : {std::size_t{0}, std::size_t{1}, kCoapMaxManifest}) {
    CoapCheckInAnswer a = sample_answer();
    a.manifest.assign(manifest, std::byte{0x5c});
    const Bytes bytes = *coap_answer_to_bytes(a);
    EXPECT_EQ(bytes.size(), 1 + 1 + 4 + 1 + 4 + 1 + a.ref.size() + 2 + manifest);
    HostResult<CoapCheckInAnswer> again = coap_answer_from_bytes(bytes);
    ASSERT_TRUE(again.ok()) << again.error().to_string();
    EXPECT_TRUE(again->update);
    EXPECT_TRUE(again->forced);
    EXPECT_EQ(again->kind, kCoapArtifactPatch);
    EXPECT_EQ(again->artifact_size, 70000u);
    EXPECT_EQ(again->ref, a.ref);
    EXPECT_EQ(again->manifest, a.manifest);
    EXPECT_EQ(*coap_answer_to_bytes(*again), bytes);
  }
}

TEST(CoapCodecTest, EveryTruncationIsRefused) {
  expect_every_truncation_refused<CoapCheckIn>(coap_check_in_to_bytes(sample_check_in(), kKey),
                                               coap_check_in_from_bytes);
  expect_every_truncation_refused<CoapCheckIn>(coap_check_in_to_bytes(sample_check_in()),
                                               coap_check_in_from_bytes);
  expect_every_truncation_refused<CoapReport>(coap_report_to_bytes(sample_report(), kKey),
                                              coap_report_from_bytes);
  expect_every_truncation_refused<CoapCheckInAnswer>(*coap_answer_to_bytes(sample_answer()),
                                                     coap_answer_from_bytes);
  expect_every_truncation_refused<CoapCheckInAnswer>(*coap_answer_to_bytes(CoapCheckInAnswer{}),
                                                     coap_answer_from_bytes);
}

TEST(CoapCodecTest, FieldsOutOfRangeAreRefusedByName) {
  const Bytes in = coap_check_in_to_bytes(sample_check_in());
  // Offsets: format 0, id length 1, id 2..8, nonce 9..16, slot 17, battery 18,
  // network 19, hash 20..51, version length 52, version 53..57, mac length 58.
  const auto with = [](Bytes b, std::size_t at, std::uint8_t value) {
    b[at] = std::byte{value};
    return b;
  };
  expect_refused(coap_check_in_from_bytes(with(in, 0, 2)), "format", "format 2");
  expect_refused(coap_check_in_from_bytes(with(in, 1, 0)), "device id", "empty id");
  expect_refused(coap_check_in_from_bytes(with(in, 2, 0x01)), "device id", "control byte");
  expect_refused(coap_check_in_from_bytes(with(in, 17, 2)), "slot", "slot 2");
  expect_refused(coap_check_in_from_bytes(with(in, 18, 101)), "battery", "battery 101");
  expect_refused(coap_check_in_from_bytes(with(in, 19, 5)), "network", "network 5");
  expect_refused(coap_check_in_from_bytes(with(in, 52, 24)), "version", "version of 24");
  expect_refused(coap_check_in_from_bytes(with(in, 58, 4)), "mac length", "mac length 4");
  Bytes long_id = coap_check_in_to_bytes(sample_check_in());
  long_id[1] = std::byte{65};
  long_id.insert(long_id.begin() + 2, 58, std::byte{'x'});
  expect_refused(coap_check_in_from_bytes(long_id), "device id", "id of 65");

  const Bytes r = coap_report_to_bytes(sample_report());
  // format 0, id 1..8, deployment 9..12, phase 13, progress 14, error 15..16.
  expect_refused(coap_report_from_bytes(with(r, 13, 0)), "phase", "phase 0");
  expect_refused(coap_report_from_bytes(with(r, 13, 9)), "phase", "phase 9");
  expect_refused(coap_report_from_bytes(with(r, 14, 101)), "progress", "progress 101");

  const Bytes a = *coap_answer_to_bytes(sample_answer());
  // format 0, flags 1, poll 2..5, kind 6, size 7..10, ref length 11, ref 12..19.
  expect_refused(coap_answer_from_bytes(with(a, 1, 7)), "flags", "flag bit 2");
  expect_refused(coap_answer_from_bytes(hex("0102100e0000")), "flags", "forced, no update");
  expect_refused(coap_answer_from_bytes(with(a, 6, 3)), "artifact kind", "kind 3");
  expect_refused(coap_answer_from_bytes(with(a, 12, 'x')), "artifact reference", "a letter");
  expect_refused(coap_answer_from_bytes(with(a, 11, 0)), "artifact reference", "empty");
  Bytes big = a;
  big[20] = std::byte{0x01};  // manifest length 0x0401
  big[21] = std::byte{0x04};
  expect_refused(coap_answer_from_bytes(big), "manifest length", "1025 bytes");
}

TEST(CoapCodecTest, AnswersTheEncoderCannotWriteAreInternalErrors) {
  CoapCheckInAnswer a = sample_answer();
  a.manifest.resize(kCoapMaxManifest + 1);
  EXPECT_EQ(coap_answer_to_bytes(a).error().code, ErrorCode::kInternal);
  a = sample_answer();
  a.ref = "";
  EXPECT_EQ(coap_answer_to_bytes(a).error().code, ErrorCode::kInternal);
  a.ref = "12a";
  EXPECT_EQ(coap_answer_to_bytes(a).error().code, ErrorCode::kInternal);
}

TEST(CoapCodecTest, AMacFailsForAnyOtherByteKeyOrMac) {
  const Bytes sealed = coap_check_in_to_bytes(sample_check_in(), kKey);
  const CoapSender sender = coap_check_in_from_bytes(sealed)->sender;
  ASSERT_TRUE(coap_mac_matches(sealed, sender, kKey));
  EXPECT_FALSE(coap_mac_matches(sealed, sender, secret_hash("another secret")));
  EXPECT_FALSE(coap_mac_matches(sealed, sender, kKey.substr(0, 63)));
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    Bytes changed = sealed;
    changed[i] ^= std::byte{0x01};
    HostResult<CoapCheckIn> in = coap_check_in_from_bytes(changed);
    // A change may make the payload malformed; if it still parses, the MAC fails.
    if (in.ok()) {
      EXPECT_FALSE(coap_mac_matches(changed, in->sender, kKey)) << "byte " << i;
    }
  }
  // Without a MAC nothing matches.
  const Bytes bare = coap_check_in_to_bytes(sample_check_in());
  EXPECT_FALSE(coap_mac_matches(bare, coap_check_in_from_bytes(bare)->sender, kKey));
  // A report's MAC is its own.
  const Bytes report = coap_report_to_bytes(sample_report(), kKey);
  EXPECT_TRUE(coap_mac_matches(report, coap_report_from_bytes(report)->sender, kKey));
}

}  // namespace
}  // namespace updraft::server::api
