// The CoAP device API (docs/formats/coap.md) against a real updraftd on loopback,
// over plain UDP (check-ins and reports with a MAC) and over DTLS with pre-shared
// keys, asked by libcoap's own client (net/coap/testing/coap_client.h). The
// fleet is set up through the admin HTTP API. Each test runs on both transports.
// The real coap-client-openssl is driven by coap_client_test.sh.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/codec.h"
#include "core/crc32.h"
#include "core/host/hex.h"
#include "crypto/sha256.h"
#include "delta/patch/host/apply.h"
#include "delta/testing/test_images.h"
#include "manifest/manifest.h"
#include "net/coap/testing/coap_client.h"
#include "net/http/http_client.h"
#include "server/api/coap_codec.h"
#include "tests/integration/updraftd_process.h"

namespace updraft {
namespace {

using net::coap::Block;
using net::coap::Code;
using net::coap::testing::CoapClient;
using net::coap::testing::Psk;
using net::coap::testing::Reply;
using net::http::ClientResponse;
using net::http::HttpClient;
using nlohmann::json;
using server::api::CoapCheckIn;
using server::api::CoapCheckInAnswer;
using server::api::CoapReport;
using Bytes = std::vector<std::byte>;

enum class Transport { kUdp, kDtls };

std::string fresh_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "updraftd-coap-XXXXXX").string();
  return ::mkdtemp(pattern.data());
}

std::string sha256_hex(ByteView bytes) { return to_hex(Sha256::digest(bytes)); }

std::string secret_of(const std::string& device) { return "secret-of-" + device + "-0123456789"; }
// The device's key: the hex SHA-256 of its secret, as text (docs/formats/coap.md).
std::string key_of(const std::string& device) {
  const std::string secret = secret_of(device);
  return sha256_hex(as_bytes_view(secret.data(), secret.size()));
}

class CoapTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    dir_ = fresh_dir();
    server_ = std::make_unique<testing::UpdraftdProcess>(
        dir_,
        std::vector<std::string>{"--coap-listen", "127.0.0.1:0", "--coaps-listen", "127.0.0.1:0"});
    ASSERT_TRUE(server_->started()) << "see " << dir_ << "/updraftd.log";
    admin_token_ = server_->admin_token();
    udp_port_ = log_port("updraftd: CoAP on coap://127.0.0.1:");
    dtls_port_ = log_port("updraftd: CoAP on coaps://127.0.0.1:");
    ASSERT_NE(udp_port_, 0);
    ASSERT_NE(dtls_port_, 0);
    admin("POST", "/api/v1/products", {{"name", "meter"}, {"profile", "mcu-tiny"}}, 201);
    for (const char* id : {"meter-1", "meter-2"}) {
      admin("POST", "/api/v1/devices",
            {{"id", id}, {"product", "meter"}, {"hardware", "board-a"}, {"secret", secret_of(id)}},
            201);
    }
    v1_ = test_images::firmware_like(20 * 1024, 1);
    v2_ = test_images::spread_changes(v1_, 400, 2500, 2);
    upload("1.0.0", v1_);
    release_ = upload("2.0.0", v2_);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  bool dtls() const { return GetParam() == Transport::kDtls; }

  // The port updraftd logged after `prefix`.
  std::uint16_t log_port(const std::string& prefix) {
    for (int i = 0; i < 100; ++i) {
      std::ifstream in(dir_ + "/updraftd.log");
      const std::string log((std::istreambuf_iterator<char>(in)), {});
      const std::size_t at = log.find(prefix);
      if (at != std::string::npos)
        return static_cast<std::uint16_t>(std::stoi(log.substr(at + prefix.size())));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
  }

  ClientResponse http(const std::string& method, const std::string& target,
                      const std::string& body = "") {
    HttpClient client("127.0.0.1", server_->port());
    HostResult<ClientResponse> r =
        client.request(net::http::parse_method(method), target,
                       {{"authorization", "Bearer " + admin_token_}}, body);
    EXPECT_TRUE(r.ok()) << target;
    return r.ok() ? *r : ClientResponse{};
  }
  json admin(const std::string& method, const std::string& target, const json& body = nullptr,
             int status = 200) {
    const ClientResponse r = http(method, target, body.is_null() ? "" : body.dump());
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }
  std::int64_t upload(const std::string& version, const Bytes& image) {
    const ClientResponse r =
        http("POST",
             "/api/v1/releases?product=meter&version=" + version +
                 "&security_counter=1&hardware=board-a",
             std::string(reinterpret_cast<const char*>(image.data()), image.size()));
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body).value("id", std::int64_t{0});
  }
  void start_campaign() {
    const json c =
        admin("POST", "/api/v1/campaigns",
              {{"name", "coap"}, {"release", release_}, {"phases", {{{"percent", 100}}}}}, 201);
    admin("POST", "/api/v1/campaigns/" + std::to_string(c.value("id", 0)) + "/start");
  }
  json deployment_of(const std::string& device) {
    return admin("GET", "/api/v1/devices/" + device).at("deployments").back();
  }

  // A client as `device` speaks: over DTLS with its own PSK, or over plain UDP.
  std::unique_ptr<CoapClient> client_for(const std::string& device) {
    HostResult<std::unique_ptr<CoapClient>> c =
        dtls() ? CoapClient::connect("127.0.0.1", dtls_port_, Psk{device, key_of(device)})
               : CoapClient::connect("127.0.0.1", udp_port_);
    EXPECT_TRUE(c.ok());
    return c.ok() ? std::move(*c) : nullptr;
  }
  // A payload sealed as the transport wants it: a MAC under the device's key over
  // UDP, none over DTLS.
  Bytes sealed(const CoapCheckIn& in) {
    return dtls() ? server::api::coap_check_in_to_bytes(in)
                  : server::api::coap_check_in_to_bytes(in, key_of(in.sender.device.value));
  }
  Bytes sealed(const CoapReport& r) {
    return dtls() ? server::api::coap_report_to_bytes(r)
                  : server::api::coap_report_to_bytes(r, key_of(r.sender.device.value));
  }
  static CoapCheckIn check_in_of(const std::string& device, const Bytes* running,
                                 std::uint64_t nonce) {
    CoapCheckIn in;
    in.sender.device.value = device;
    in.request.nonce = nonce;
    in.request.status.battery_percent = 90;
    in.request.status.network = "nbiot";
    in.request.status.version = "1.0.0";
    in.request.status.image_sha256 =
        running != nullptr ? sha256_hex(*running) : std::string(64, '0');
    return in;
  }
  static CoapReport report_of(const std::string& device, std::uint32_t deployment,
                              const std::string& phase, int progress = -1, int error = 0) {
    CoapReport r;
    r.sender.device.value = device;
    r.deployment = deployment;
    r.report.phase = phase;
    r.report.progress = progress;
    r.report.error = error;
    r.report.running_version = "1.0.0";
    return r;
  }

  static Reply ask(CoapClient& c, net::coap::Method method, const std::string& path,
                   const Bytes& payload = {}, std::optional<Block> block2 = std::nullopt) {
    HostResult<Reply> r = c.request(method, path, payload, block2);
    EXPECT_TRUE(r.ok()) << path << ": " << r.error().to_string();
    return r.ok() ? *r : Reply{Code::kInternalServerError, {}, {}, {}};
  }
  CoapCheckInAnswer check_in(CoapClient& c, const CoapCheckIn& in) {
    const Reply r = ask(c, net::coap::Method::kPost, "c", sealed(in));
    EXPECT_EQ(r.code, Code::kContent) << r.text();
    HostResult<CoapCheckInAnswer> answer = server::api::coap_answer_from_bytes(r.payload);
    EXPECT_TRUE(answer.ok()) << answer.error().to_string();
    return answer.ok() ? *answer : CoapCheckInAnswer{};
  }
  // Checks in until an update is offered (the campaign releases its phase on the
  // scheduler's next tick, a delta may still be building); its manifest is parsed
  // into `manifest` and echoes the nonce.
  CoapCheckInAnswer check_in_until_update(CoapClient& c, const std::string& device,
                                          const Bytes* running, manifest::Manifest& manifest) {
    std::mt19937_64 random(42);
    for (int i = 0; i < 200; ++i) {
      const std::uint64_t nonce = random();
      CoapCheckInAnswer a = check_in(c, check_in_of(device, running, nonce));
      if (a.update) {
        EXPECT_TRUE(manifest::parse_manifest(a.manifest, manifest).ok());
        EXPECT_TRUE(manifest.is_check_in);
        EXPECT_EQ(manifest.freshness.nonce, nonce);
        EXPECT_EQ(manifest.version_text, "2.0.0");
        return a;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no update offered to " << device;
    return {};
  }
  // Every block of `ref` at 2^(szx+4) bytes, checked one by one: its number, the
  // size asked for, the More flag and option 65004, the CRC-32 of its payload.
  Bytes fetch(CoapClient& c, const std::string& ref, std::uint8_t szx, std::size_t size) {
    Bytes all;
    const std::size_t block = std::size_t{16} << szx;
    for (std::uint32_t num = 0; all.size() < size || num == 0; ++num) {
      const Reply r = ask(c, net::coap::Method::kGet, "a/" + ref, {}, Block{num, false, szx});
      EXPECT_EQ(r.code, Code::kContent) << "block " << num << ": " << r.text();
      if (r.code != Code::kContent || !r.block2) {
        ADD_FAILURE() << "block " << num << " has no Block2";
        break;
      }
      EXPECT_EQ(r.block2->num, num);
      EXPECT_EQ(r.block2->szx, szx);
      EXPECT_EQ(r.payload.size(), std::min(block, size - std::min(size, all.size())));
      EXPECT_EQ(r.block2->more, all.size() + r.payload.size() < size) << "block " << num;
      const auto crc = r.options.find(server::api::kCoapBlockCrc32Option);
      EXPECT_EQ(r.options.count(server::api::kCoapBlockCrc32Option), 1u);
      if (crc == r.options.end() || crc->second.size() != 4) {
        ADD_FAILURE() << "block " << num << " has no 4-byte CRC option";
        break;
      }
      EXPECT_EQ(load_le32(crc->second.data()), crc32(r.payload)) << "block " << num;
      all.insert(all.end(), r.payload.begin(), r.payload.end());
      if (!r.block2->more) break;
    }
    return all;
  }
  std::uint64_t download_bytes_metric() {
    const std::string text = http("GET", "/metrics").body;
    const std::string name = "\nupdraft_download_bytes_total ";
    const std::size_t at = text.find(name);
    return at == std::string::npos ? 0 : std::stoull(text.substr(at + name.size()));
  }
  static std::uint32_t deployment_of_ref(const std::string& ref) {
    return static_cast<std::uint32_t>(std::stoul(ref.substr(0, ref.size() - 6)));
  }

  std::string dir_;
  std::unique_ptr<testing::UpdraftdProcess> server_;
  std::string admin_token_;
  std::uint16_t udp_port_ = 0, dtls_port_ = 0;
  Bytes v1_, v2_;
  std::int64_t release_ = 0;
};

TEST_P(CoapTest, NoUpdateUntilACampaignThenTheFullImageBlockByBlock) {
  auto c = client_for("meter-1");
  const CoapCheckInAnswer idle = check_in(*c, check_in_of("meter-1", nullptr, 1));
  EXPECT_FALSE(idle.update);
  EXPECT_EQ(idle.poll_seconds, 3600u);
  start_campaign();
  manifest::Manifest m;
  const CoapCheckInAnswer a = check_in_until_update(*c, "meter-1", nullptr, m);
  ASSERT_TRUE(a.update);
  EXPECT_EQ(a.kind, server::api::kCoapArtifactFull);
  EXPECT_FALSE(a.forced);
  EXPECT_EQ(a.artifact_size, v2_.size());
  EXPECT_FALSE(m.is_delta);
  EXPECT_EQ(m.image_size, v2_.size());
  const json d = deployment_of("meter-1");
  EXPECT_EQ(d.value("channel", ""), "coap");
  EXPECT_EQ(d.value("artifact_kind", ""), "full");
  EXPECT_EQ(deployment_of_ref(a.ref), d.value("id", 0));

  const std::uint64_t bytes_before = download_bytes_metric();
  const Bytes image = fetch(*c, a.ref, 2, a.artifact_size);
  EXPECT_EQ(image, v2_);
  EXPECT_EQ(Sha256::digest(image), m.image_hash);
  EXPECT_EQ(download_bytes_metric() - bytes_before, v2_.size());
}

TEST_P(CoapTest, EveryBlockSizeServesTheSameBytesWithNumbersAndCrcs) {
  auto c = client_for("meter-1");
  start_campaign();
  manifest::Manifest m;
  const CoapCheckInAnswer a = check_in_until_update(*c, "meter-1", nullptr, m);
  ASSERT_TRUE(a.update);
  for (const int szx : {2, 3, 4, 5, 6}) {
    EXPECT_EQ(fetch(*c, a.ref, static_cast<std::uint8_t>(szx), a.artifact_size), v2_)
        << "SZX " << szx;
  }
  // Without Block2 the server sends block 0 of 1024 bytes.
  const Reply first = ask(*c, net::coap::Method::kGet, "a/" + a.ref);
  ASSERT_TRUE(first.block2);
  EXPECT_EQ(*first.block2, (Block{0, true, 6}));
  EXPECT_EQ(first.payload, Bytes(v2_.begin(), v2_.begin() + 1024));
}

TEST_P(CoapTest, ADeviceOnAKnownImageGetsAPatchThatApplies) {
  auto c = client_for("meter-2");
  start_campaign();
  manifest::Manifest m;
  const CoapCheckInAnswer a = check_in_until_update(*c, "meter-2", &v1_, m);
  ASSERT_TRUE(a.update);
  EXPECT_EQ(a.kind, server::api::kCoapArtifactPatch);
  ASSERT_TRUE(m.is_delta);
  EXPECT_EQ(m.delta.patch_size, a.artifact_size);
  EXPECT_LT(a.artifact_size, v2_.size());
  const Bytes patch = fetch(*c, a.ref, 4, a.artifact_size);
  EXPECT_EQ(Sha256::digest(patch), m.delta.patch_hash);
  HostResult<Bytes> image = delta::apply_patch(v1_, patch);
  ASSERT_TRUE(image.ok()) << image.error().to_string();
  EXPECT_EQ(*image, v2_);
}

TEST_P(CoapTest, BlockOptionsOutsideTheArtifactOrSizesAreBadOptions) {
  auto c = client_for("meter-1");
  start_campaign();
  manifest::Manifest m;
  const CoapCheckInAnswer a = check_in_until_update(*c, "meter-1", nullptr, m);
  ASSERT_TRUE(a.update);
  const std::string path = "a/" + a.ref;
  const auto past = static_cast<std::uint32_t>((a.artifact_size + 1023) / 1024);
  EXPECT_EQ(ask(*c, net::coap::Method::kGet, path, {}, Block{past, false, 6}).code,
            Code::kBadOption);
  EXPECT_EQ(ask(*c, net::coap::Method::kGet, path, {}, Block{past - 1, false, 6}).code,
            Code::kContent);
  for (const int szx : {0, 1, 7}) {
    const Reply r =
        ask(*c, net::coap::Method::kGet, path, {}, Block{0, false, static_cast<std::uint8_t>(szx)});
    EXPECT_EQ(r.code, Code::kBadOption) << "SZX " << szx;
    EXPECT_EQ(r.text().rfind("Block2:", 0), 0u) << r.text();
  }
}

TEST_P(CoapTest, ReportsCarryTheDeploymentToSuccessAndAFinishedOneIsAConflict) {
  auto c = client_for("meter-1");
  start_campaign();
  manifest::Manifest m;
  const CoapCheckInAnswer a = check_in_until_update(*c, "meter-1", nullptr, m);
  ASSERT_TRUE(a.update);
  const std::uint32_t id = deployment_of_ref(a.ref);
  const struct {
    const char* phase;
    int progress;
    const char* state;
  } steps[] = {{"downloading", 10, "downloading"},
               {"verifying", 100, "installing"},
               {"installing", 50, "installing"},
               {"rebooting", -1, "rebooting"},
               {"success", 100, "succeeded"}};
  for (const auto& step : steps) {
    const Reply r = ask(*c, net::coap::Method::kPost, "r",
                        sealed(report_of("meter-1", id, step.phase, step.progress)));
    EXPECT_EQ(r.code, Code::kChanged) << step.phase << ": " << r.text();
    EXPECT_TRUE(r.payload.empty());
    const json d = deployment_of("meter-1");
    EXPECT_EQ(d.value("state", ""), step.state) << step.phase;
    if (step.progress >= 0) {
      EXPECT_EQ(d.value("progress", -2), step.progress) << step.phase;
    }
  }
  const Reply late =
      ask(*c, net::coap::Method::kPost, "r", sealed(report_of("meter-1", id, "success", 100)));
  EXPECT_EQ(late.code, Code::kConflict) << late.text();
  EXPECT_NE(late.text().find("already succeeded"), std::string::npos) << late.text();
  // Another device's deployment is not found.
  auto other = client_for("meter-2");
  EXPECT_EQ(
      ask(*other, net::coap::Method::kPost, "r", sealed(report_of("meter-2", id, "downloading", 0)))
          .code,
      Code::kNotFound);
}

TEST_P(CoapTest, DeploymentZeroInAReportMeansTheLastOneOffered) {
  auto c = client_for("meter-1");
  EXPECT_EQ(
      ask(*c, net::coap::Method::kPost, "r", sealed(report_of("meter-1", 0, "downloading"))).code,
      Code::kNotFound)
      << "nothing was offered yet";
  start_campaign();
  manifest::Manifest m;
  ASSERT_TRUE(check_in_until_update(*c, "meter-1", nullptr, m).update);
  const Reply r =
      ask(*c, net::coap::Method::kPost, "r", sealed(report_of("meter-1", 0, "failure", 30, 520)));
  EXPECT_EQ(r.code, Code::kChanged) << r.text();
  const json d = deployment_of("meter-1");
  EXPECT_EQ(d.value("state", ""), "failed");
  EXPECT_EQ(d.value("error", 0), 520);
}

TEST_P(CoapTest, WhoIsAskingIsCheckedAndRefusalsAllLookTheSame) {
  auto c = client_for("meter-1");
  const CoapCheckIn in = check_in_of("meter-1", nullptr, 7);
  if (dtls()) {
    // The session names meter-1: a payload for meter-2 is refused, and a MAC has
    // no place over DTLS.
    const Reply other =
        ask(*c, net::coap::Method::kPost, "c", sealed(check_in_of("meter-2", nullptr, 7)));
    EXPECT_EQ(other.code, Code::kUnauthorized);
    EXPECT_EQ(other.text(), "unknown device or wrong MAC");
    const Reply with_mac = ask(*c, net::coap::Method::kPost, "c",
                               server::api::coap_check_in_to_bytes(in, key_of("meter-1")));
    EXPECT_EQ(with_mac.code, Code::kBadRequest);
    EXPECT_EQ(with_mac.text().rfind("mac length:", 0), 0u) << with_mac.text();
    // A handshake with an unknown identity or a wrong key brings no answer at all.
    auto stranger = CoapClient::connect("127.0.0.1", dtls_port_, Psk{"nobody", key_of("nobody")});
    ASSERT_TRUE(stranger.ok());
    EXPECT_FALSE((*stranger)->request(net::coap::Method::kPost, "c", sealed(in)).ok());
    auto impostor = CoapClient::connect("127.0.0.1", dtls_port_, Psk{"meter-1", key_of("meter-2")});
    ASSERT_TRUE(impostor.ok());
    EXPECT_FALSE((*impostor)
                     ->request(net::coap::Method::kPost, "c", sealed(in), std::nullopt,
                               std::chrono::seconds(2))
                     .ok());
    return;
  }
  const std::vector<Bytes> refused = {
      server::api::coap_check_in_to_bytes(in, key_of("meter-2")),  // another device's key
      server::api::coap_check_in_to_bytes(check_in_of("nobody", nullptr, 7), key_of("nobody")),
      server::api::coap_check_in_to_bytes(in),  // no MAC at all
      server::api::coap_report_to_bytes(report_of("meter-1", 1, "success"), key_of("meter-2")),
  };
  for (std::size_t i = 0; i < refused.size(); ++i) {
    const Reply r = ask(*c, net::coap::Method::kPost, i < 3 ? "c" : "r", refused[i]);
    EXPECT_EQ(r.code, Code::kUnauthorized) << i;
    EXPECT_EQ(r.text(), "unknown device or wrong MAC") << i;
  }
  EXPECT_EQ(ask(*c, net::coap::Method::kPost, "c", sealed(in)).code, Code::kContent);
}

TEST_P(CoapTest, UnknownReferencesAreNotFoundAndMalformedPayloadsNameTheField) {
  auto c = client_for("meter-1");
  start_campaign();
  manifest::Manifest m;
  const CoapCheckInAnswer a = check_in_until_update(*c, "meter-1", nullptr, m);
  ASSERT_TRUE(a.update);
  std::string tampered = a.ref;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  for (const std::string& path : {"a/" + tampered, std::string("a/1234567"), std::string("a"),
                                  "a/" + a.ref + "/x", std::string("a/") + "x" + a.ref}) {
    const Reply r = ask(*c, net::coap::Method::kGet, path, {}, Block{0, false, 6});
    EXPECT_EQ(r.code, Code::kNotFound) << path << ": " << r.text();
  }
  EXPECT_EQ(ask(*c, net::coap::Method::kGet, "nothing").code, Code::kNotFound);
  EXPECT_EQ(ask(*c, net::coap::Method::kGet, "c").code, Code::kMethodNotAllowed);

  Bytes payload = sealed(check_in_of("meter-1", nullptr, 1));
  payload[0] = std::byte{2};
  Reply r = ask(*c, net::coap::Method::kPost, "c", payload);
  EXPECT_EQ(r.code, Code::kBadRequest);
  EXPECT_EQ(r.text().rfind("format:", 0), 0u) << r.text();
  payload[0] = std::byte{1};
  payload.resize(20);
  r = ask(*c, net::coap::Method::kPost, "c", payload);
  EXPECT_EQ(r.code, Code::kBadRequest);
  EXPECT_NE(r.text().find("truncated"), std::string::npos) << r.text();
  Bytes report = sealed(report_of("meter-1", deployment_of_ref(a.ref), "success"));
  report[1 + 1 + 7 + 4] = std::byte{9};  // phase 9
  r = ask(*c, net::coap::Method::kPost, "r", report);
  EXPECT_EQ(r.code, Code::kBadRequest);
  EXPECT_EQ(r.text().rfind("phase:", 0), 0u) << r.text();
}

INSTANTIATE_TEST_SUITE_P(Transports, CoapTest, ::testing::Values(Transport::kUdp, Transport::kDtls),
                         [](const ::testing::TestParamInfo<Transport>& param) {
                           return param.param == Transport::kUdp ? "Udp" : "Dtls";
                         });

}  // namespace
}  // namespace updraft
