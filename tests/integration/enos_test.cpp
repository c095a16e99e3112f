// EnOS Edge sub-device contract (docs/api/enos.md): a real updraftd on loopback,
// sent the request bodies of the EnOS document verbatim (the JSON text as printed
// there, whitespace included), with every response field and status checked.
// Six sub-devices at once, driven by curl and md5sum, are in enos_subdevice.sh.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "crypto/host/legacy_digests.h"
#include "delta/testing/test_images.h"
#include "net/http/http_client.h"
#include "tests/integration/updraftd_process.h"

namespace updraft {
namespace {

using net::http::ClientResponse;
using net::http::Headers;
using net::http::HttpClient;
using net::http::Method;
using nlohmann::json;

// --- The document's bodies, as printed (../shared/seeds/002_b06de7ee839862a0.txt).

constexpr char kCheckVersionRequest[] = R"({
"assetId":"",
"version":"1.0.0",
"serialNum":"1234-5678-90aa"
})";

constexpr char kNoUpdateResponse[] = R"(    {
    "assetId":"ZR3c5CfFSO",
    "version":"1.0.0",
    "code":0,
    "desc":"no update",
    "signMethod":"",
    "sign":"",
    "downloadurl":""
    })";

constexpr char kDownloadFail[] = R"(    {
    "assetId":"ZR3c5CfFSO",
    "code":0,
    "message":"download fail"
    })";

constexpr char kDownloadSuccess[] = R"(    {
    "assetId":"ZR3c5CfFSO",
    "code":1,
    "message":"download success"
    })";

constexpr char kUpgradeFailure[] = R"(    {
    "assetId":"999999",
    "version":"v1.0.0.3",
    "desc":"during upgrade",
    "flag":0,
    "process":0,
    "errcode":0
    })";

constexpr char kUpgradeInProgress[] = R"(    {
    "assetId":"999999",
    "version":"",
    "desc":"updating",
    "flag":1,
    "process": 60,
    "errcode":0
    })";

constexpr char kUpgradeSuccess[] = R"(    {
    "assetId":"999999",
    "version":"v2.0.0.1",
    "desc":"update completed",
    "flag":2,
    "process": 100,
    "errcode":0
    })";

constexpr char kUnsupportedUrl[] = R"({
"httpstatus":404,
"message":"unsupported url"
})";

std::string fresh_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "updraftd-enos-XXXXXX").string();
  return ::mkdtemp(pattern.data());
}

// True when `text` is `prefix` followed by at least `digits` decimal digits.
// (Not std::regex: GCC 12 warns inside <regex> under the asan preset.)
bool prefix_and_digits(const std::string& text, const std::string& prefix, std::size_t digits) {
  if (text.rfind(prefix, 0) != 0 || text.size() < prefix.size() + digits) return false;
  for (std::size_t i = prefix.size(); i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

std::string as_text(const std::vector<std::byte>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

class EnosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir();
    server_ = std::make_unique<testing::UpdraftdProcess>(
        dir_, std::vector<std::string>{"--enos-listen", "127.0.0.1:0"});
    ASSERT_TRUE(server_->started()) << "see " << dir_ << "/updraftd.log";
    admin_token_ = server_->admin_token();
    admin(Method::kPost, "/api/v1/products", {{"name", "meter"}, {"profile", "mcu-tiny"}}, 201);
    for (const auto& [id, serial] :
         {std::pair<const char*, const char*>{"ZR3c5CfFSO", "1234-5678-90aa"},
          {"999999", "SN-999999"}}) {
      admin(Method::kPost, "/api/v1/devices",
            {{"id", id}, {"product", "meter"}, {"hardware", "board-a"}, {"serial", serial}}, 201);
    }
    v1_ = as_text(test_images::firmware_like(24 * 1024, 1));
    v2_ = as_text(test_images::firmware_like(24 * 1024, 2));
    upload("1.0.0", "v1.0.0.3", v1_);
    release_ = upload("2.0.0", "v2.0.0.1", v2_);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  ClientResponse call(Method method, const std::string& target, const std::string& body = "",
                      Headers headers = {}, std::uint16_t port = 0) {
    HttpClient client("127.0.0.1", port != 0 ? port : server_->port());
    HostResult<ClientResponse> r = client.request(method, target, headers, body);
    EXPECT_TRUE(r.ok()) << target << ": " << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? *r : ClientResponse{};
  }
  json admin(Method method, const std::string& target, const json& body = nullptr,
             int status = 200) {
    const ClientResponse r = call(method, target, body.is_null() ? "" : body.dump(),
                                  {{"authorization", "Bearer " + admin_token_}});
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }
  std::int64_t upload(const std::string& version, const std::string& enos, const std::string& img) {
    const ClientResponse r = call(Method::kPost,
                                  "/api/v1/releases?product=meter&version=" + version +
                                      "&security_counter=1&hardware=board-a&enos_version=" + enos,
                                  img, {{"authorization", "Bearer " + admin_token_}});
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body).value("id", std::int64_t{0});
  }
  void start_campaign() {
    const json c =
        admin(Method::kPost, "/api/v1/campaigns",
              {{"name", "enos"}, {"release", release_}, {"phases", {{{"percent", 100}}}}}, 201);
    admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(c.value("id", 0)) + "/start");
  }
  // Posts `body` to /checkversion until it answers code 1 (the campaign releases
  // its phase on the scheduler's next tick).
  json check_until_update(const std::string& body) {
    json answer;
    for (int i = 0; i < 100; ++i) {
      const ClientResponse r = call(Method::kPost, "/checkversion", body);
      EXPECT_EQ(r.status, 200) << r.body;
      answer = json::parse(r.body, nullptr, false);
      if (answer.value("code", 0) == 1) return answer;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no update offered: " << answer.dump();
    return answer;
  }
  json deployment_of(const std::string& device) {
    const json d = admin(Method::kGet, "/api/v1/devices/" + device);
    return d.at("deployments").back();
  }
  // An EnOS error: exactly {"httpstatus":N,"message":"..."} with N the status.
  static void expect_enos_error(const ClientResponse& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    const json body = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_EQ(body.size(), 2u) << r.body;
    EXPECT_EQ(body.value("httpstatus", 0), status) << r.body;
    EXPECT_FALSE(body.value("message", std::string()).empty()) << r.body;
  }
  // The port of the --enos-listen listener, from updraftd's log.
  std::uint16_t enos_port() {
    const std::string line = "EnOS sub-device endpoints on http://127.0.0.1:";
    for (int i = 0; i < 100; ++i) {
      std::ifstream in(dir_ + "/updraftd.log");
      const std::string log((std::istreambuf_iterator<char>(in)), {});
      const std::size_t at = log.find(line);
      if (at != std::string::npos) {
        return static_cast<std::uint16_t>(std::stoi(log.substr(at + line.size())));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
  }

  std::string dir_;
  std::unique_ptr<testing::UpdraftdProcess> server_;
  std::string admin_token_;
  std::string v1_, v2_;
  std::int64_t release_ = 0;
};

TEST_F(EnosTest, TheDocumentsCheckVersionRequestGetsTheDocumentsNoUpdateAnswer) {
  const ClientResponse r = call(Method::kPost, "/checkversion", kCheckVersionRequest);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body), json::parse(kNoUpdateResponse));
}

TEST_F(EnosTest, AnUpdateNamesTheTargetVersionAndSignsTheBytesServed) {
  start_campaign();
  const json answer = check_until_update(kCheckVersionRequest);
  ASSERT_EQ(answer.size(), 7u) << answer.dump();
  EXPECT_EQ(answer.value("assetId", ""), "ZR3c5CfFSO");
  EXPECT_EQ(answer.value("version", ""), "v2.0.0.1");
  EXPECT_EQ(answer.value("code", 0), 1);
  EXPECT_EQ(answer.value("desc", ""), "has update");
  EXPECT_EQ(answer.value("signMethod", ""), "MD5");
  const std::string url = answer.value("downloadurl", "");
  ASSERT_TRUE(prefix_and_digits(url, "/version/", 7)) << url;

  const ClientResponse file = call(Method::kGet, url);
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(file.body, v2_);
  EXPECT_EQ(file.header("content-length"), std::to_string(v2_.size()));
  const std::string path = dir_ + "/served.bin";
  std::ofstream(path, std::ios::binary) << file.body;
  EXPECT_EQ(answer.value("sign", ""), legacy_digests_of_file(path)->md5);
  const ClientResponse part = call(Method::kGet, url, "", {{"range", "bytes=100-199"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, v2_.substr(100, 100));
  const ClientResponse head = call(Method::kHead, url);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), std::to_string(v2_.size()));
  EXPECT_TRUE(head.body.empty());
  // Another device presenting itself gets nothing; an id nobody was given is unknown.
  expect_enos_error(call(Method::kGet, url + "?assetId=999999&serialNum=SN-999999"), 404);
  expect_enos_error(call(Method::kGet, "/version/15912345678"), 404);
}

TEST_F(EnosTest, DownloadResultsAreNoContentAndAFinishedDeploymentIsNotAcceptable) {
  start_campaign();
  const std::string url = check_until_update(kCheckVersionRequest).value("downloadurl", "");
  const std::string id = url.substr(url.rfind('/') + 1);
  const ClientResponse failed = call(Method::kPost, "/downloadresult/" + id, kDownloadFail);
  EXPECT_EQ(failed.status, 204) << failed.body;
  EXPECT_TRUE(failed.body.empty());
  const json d = deployment_of("ZR3c5CfFSO");
  EXPECT_EQ(d.value("state", ""), "failed");
  EXPECT_EQ(d.value("error", 0), 541);
  EXPECT_EQ(d.value("message", ""), "download fail");
  EXPECT_EQ(d.value("channel", ""), "enos");
  expect_enos_error(call(Method::kPost, "/downloadresult/" + id, kDownloadSuccess), 406);
}

TEST_F(EnosTest, UpdateResultsShowProgressAndOnlyARealSuccessCounts) {
  start_campaign();
  const json answer =
      check_until_update(R"({"assetId":"999999","version":"v1.0.0.3","serialNum":"SN-999999"})");
  EXPECT_EQ(answer.value("version", ""), "v2.0.0.1");
  const std::string url = answer.value("downloadurl", "");
  EXPECT_EQ(call(Method::kGet, url).status, 200);
  EXPECT_EQ(deployment_of("999999").value("state", ""), "downloading");
  const std::string id = url.substr(url.rfind('/') + 1);
  EXPECT_EQ(call(Method::kPost, "/downloadresult/" + id,
                 R"({"assetId":"999999","code":1,"message":"download success"})")
                .status,
            204);
  EXPECT_EQ(deployment_of("999999").value("state", ""), "installing");

  ClientResponse r = call(Method::kPost, "/updateresult", kUpgradeInProgress);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(deployment_of("999999").value("progress", 0), 60);
  // Flag 2 without process 100 and the target version is not a success.
  expect_enos_error(
      call(
          Method::kPost, "/updateresult",
          R"({"assetId":"999999","version":"v2.0.0.1","desc":"","flag":2,"process":90,"errcode":0})"),
      406);
  expect_enos_error(
      call(
          Method::kPost, "/updateresult",
          R"({"assetId":"999999","version":"v1.0.0.3","desc":"","flag":2,"process":100,"errcode":0})"),
      406);
  EXPECT_EQ(deployment_of("999999").value("state", ""), "installing");
  r = call(Method::kPost, "/updateresult", kUpgradeSuccess);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(deployment_of("999999").value("state", ""), "succeeded");
  expect_enos_error(call(Method::kPost, "/updateresult", kUpgradeFailure), 406);
}

TEST_F(EnosTest, TheDocumentsFailureBodyFailsTheDeploymentKeepingErrcodeAndDesc) {
  start_campaign();
  check_until_update(R"({"assetId":"999999","version":"v1.0.0.3","serialNum":"SN-999999"})");
  EXPECT_EQ(call(Method::kPost, "/updateresult", kUpgradeFailure).status, 204);
  const json d = deployment_of("999999");
  EXPECT_EQ(d.value("state", ""), "failed");
  EXPECT_EQ(d.value("error", 0), 540);
  EXPECT_EQ(d.value("message", ""), "errcode 0: during upgrade");
  // errcode may be text too.
  EXPECT_EQ(
      call(Method::kPost, "/updateresult",
           R"({"assetId":"999999","version":"v1","desc":"x","flag":0,"process":0,"errcode":"E7"})")
          .status,
      406);
}

TEST_F(EnosTest, ErrorsUseTheDocumentsShapeAndAWrongSerialIsAudited) {
  const ClientResponse wrong =
      call(Method::kPost, "/checkversion",
           R"({"assetId":"ZR3c5CfFSO","version":"1.0.0","serialNum":"0000-0000-0000"})");
  expect_enos_error(wrong, 404);
  const ClientResponse unknown = call(Method::kPost, "/checkversion",
                                      R"({"assetId":"nobody","version":"1.0.0","serialNum":"x"})");
  expect_enos_error(unknown, 404);
  EXPECT_EQ(json::parse(wrong.body), json::parse(unknown.body)) << "no probing for ids";
  const json audit = admin(Method::kGet, "/api/v1/audit");
  int refused = 0;
  for (const json& e : audit.at("events")) refused += e.value("action", "") == "enos.refused";
  EXPECT_EQ(refused, 2);

  expect_enos_error(call(Method::kPost, "/checkversion", "{not json"), 400);
  expect_enos_error(call(Method::kPost, "/checkversion", R"({"assetId":7})"), 400);
  expect_enos_error(call(Method::kPost, "/updateresult",
                         R"({"assetId":"999999","version":"","flag":5,"process":0})"),
                    400);
  expect_enos_error(call(Method::kPost, "/updateresult", R"({"assetId":"999999","flag":1})"), 400);
  expect_enos_error(call(Method::kPost, "/downloadresult/1000000123456", kDownloadSuccess), 404);
  // Nothing offered yet: there is no upgrade to report on.
  expect_enos_error(call(Method::kPost, "/updateresult", kUpgradeInProgress), 404);
}

TEST_F(EnosTest, TheEdgePortServesTheEnosRoutesOnly) {
  const std::uint16_t port = enos_port();
  ASSERT_NE(port, 0) << "no --enos-listen line in " << dir_ << "/updraftd.log";
  const ClientResponse r = call(Method::kPost, "/checkversion", kCheckVersionRequest, {}, port);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body), json::parse(kNoUpdateResponse));
  const ClientResponse other = call(Method::kGet, "/api/v1/health", "", {}, port);
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(json::parse(other.body), json::parse(kUnsupportedUrl));
}

TEST_F(EnosTest, AProductSettingChoosesSha256AndAnAbsoluteUrl) {
  const json s = admin(Method::kPut, "/api/v1/products/meter/enos",
                       {{"sign_method", "SHA256"}, {"download_base", "http://10.0.0.2:5055"}});
  EXPECT_EQ(s.value("sign_method", ""), "SHA256");
  admin(Method::kPut, "/api/v1/products/meter/enos", {{"sign_method", "SHA1"}}, 400);
  start_campaign();
  const json answer = check_until_update(kCheckVersionRequest);
  EXPECT_EQ(answer.value("signMethod", ""), "SHA256");
  const std::string url = answer.value("downloadurl", "");
  EXPECT_EQ(url.rfind("http://10.0.0.2:5055/version/", 0), 0u) << url;
  const ClientResponse file =
      call(Method::kGet, url.substr(std::string("http://10.0.0.2:5055").size()));
  ASSERT_EQ(file.status, 200);
  const json release = admin(Method::kGet, "/api/v1/releases/" + std::to_string(release_));
  EXPECT_EQ(answer.value("sign", ""), release.value("sha256", ""));
}

}  // namespace
}  // namespace updraft
