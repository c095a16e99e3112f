// The Mender artifact reader: artifacts the real `mender-artifact` (Debian) makes
// are read with every field, and artifacts built here piece by piece, each wrong
// in one way, are refused with a message naming what is wrong. Every cut of an
// artifact is refused.
#include "server/mender/mender_artifact.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/host/hex.h"
#include "crypto/sha256.h"

namespace updraft::server::mender {
namespace {

using nlohmann::json;

std::string sha_hex(const std::string& bytes) {
  return to_hex(Sha256::digest(std::as_bytes(std::span(bytes.data(), bytes.size()))));
}

// One ustar entry (type '0' unless given), padded to 512 bytes.
std::string tar_entry(const std::string& name, const std::string& contents, char type = '0') {
  std::string header(512, '\0');
  std::snprintf(header.data(), 100, "%s", name.c_str());
  std::snprintf(header.data() + 100, 8, "%07o", 0644);
  std::snprintf(header.data() + 108, 8, "%07o", 0);
  std::snprintf(header.data() + 116, 8, "%07o", 0);
  std::snprintf(header.data() + 124, 12, "%011llo",
                static_cast<unsigned long long>(contents.size()));
  std::snprintf(header.data() + 136, 12, "%011o", 0);
  header[156] = type;
  std::memcpy(header.data() + 257,
              "ustar\0"
              "00",
              8);
  std::memset(header.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (const char c : header) sum += static_cast<unsigned char>(c);
  std::snprintf(header.data() + 148, 8, "%06o", sum);
  header[155] = ' ';
  std::string out = header + contents;
  out.append((512 - contents.size() % 512) % 512, '\0');
  return out;
}

std::string tar_end() { return std::string(1024, '\0'); }

std::string gzip(const std::string& bytes) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, bytes.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// The parts of an artifact, each changeable before build() writes it as
// mender-artifact does (gzip), with a manifest of what it holds.
struct Parts {
  json version = {{"format", "mender"}, {"version", 3}};
  json header_info = {{"payloads", {{{"type", "single-file"}}}},
                      {"artifact_provides", {{"artifact_name", "release-2"}}},
                      {"artifact_depends", {{"device_type", {"gw-a", "gw-b"}}}}};
  std::vector<json> type_infos = {{{"type", "single-file"},
                                   {"artifact_provides", {{"rootfs-image.app.version", "2.0"}}},
                                   {"clears_artifact_provides", {"rootfs-image.app.*"}}}};
  std::vector<std::map<std::string, std::string>> files = {
      {{"app.bin", std::string(70000, 'a') + "end"}, {"app.conf", "mode=1\n"}}};
  std::optional<std::string> manifest;                // replaces the computed one
  std::map<std::string, std::string> manifest_extra;  // lines added to it
  std::vector<std::string> manifest_drop;             // lines left out of it
  std::string header_extra;                           // entries appended to header.tar

  std::string header_tar() const {
    std::string tar = tar_entry("header-info", header_info.dump());
    for (std::size_t i = 0; i < type_infos.size(); ++i) {
      char dir[32];
      std::snprintf(dir, sizeof dir, "headers/%04zu/", i);
      tar += tar_entry(std::string(dir) + "type-info", type_infos[i].dump());
    }
    return tar + header_extra + tar_end();
  }

  std::string build() const {
    const std::string version_text = version.dump();
    const std::string header = gzip(header_tar());
    std::map<std::string, std::string> sums = {{"version", sha_hex(version_text)},
                                               {"header.tar.gz", sha_hex(header)}};
    std::vector<std::string> data;
    for (std::size_t i = 0; i < files.size(); ++i) {
      char stem[32];
      std::snprintf(stem, sizeof stem, "data/%04zu", i);
      std::string tar;
      for (const auto& [name, contents] : files[i]) {
        tar += tar_entry(name, contents);
        sums[std::string(stem) + "/" + name] = sha_hex(contents);
      }
      data.push_back(tar_entry(std::string(stem) + ".tar.gz", gzip(tar + tar_end())));
    }
    for (const auto& [path, sum] : manifest_extra) sums[path] = sum;
    for (const std::string& path : manifest_drop) sums.erase(path);
    std::string text;
    for (const auto& [path, sum] : sums) text += sum + "  " + path + "\n";
    std::string out = tar_entry("version", version_text) +
                      tar_entry("manifest", manifest.value_or(text)) +
                      tar_entry("header.tar.gz", header);
    for (const std::string& d : data) out += d;
    return out + tar_end();
  }
};

HostResult<Artifact> read(const std::string& bytes) {
  return read_artifact(std::as_bytes(std::span(bytes.data(), bytes.size())));
}

// The error's message, or "" when the artifact was accepted.
std::string refusal(const Parts& parts) {
  const HostResult<Artifact> a = read(parts.build());
  if (a.ok()) return "";
  EXPECT_EQ(a.error().code, ErrorCode::kApiBadRequest) << a.error().to_string();
  return a.error().message;
}

TEST(MenderArtifactTest, ReadsEveryFieldOfAWellFormedArtifact) {
  const Parts parts;
  const HostResult<Artifact> a = read(parts.build());
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(a->name, "release-2");
  EXPECT_EQ(a->device_types, (std::vector<std::string>{"gw-a", "gw-b"}));
  ASSERT_EQ(a->payloads.size(), 1u);
  const Payload& p = a->payloads[0];
  EXPECT_EQ(p.type, "single-file");
  EXPECT_EQ(p.provides.at("rootfs-image.app.version"), "2.0");
  EXPECT_EQ(p.clears_provides, std::vector<std::string>{"rootfs-image.app.*"});
  ASSERT_EQ(p.files.size(), 2u);
  EXPECT_EQ(p.files[0].name, "app.bin");
  EXPECT_EQ(p.files[0].size, 70003u);
  EXPECT_EQ(p.files[0].sha256, sha_hex(std::string(70000, 'a') + "end"));
  EXPECT_EQ(payload_bytes(*a), 70003u + 7u);
  EXPECT_TRUE(a->signature.empty());
}

TEST(MenderArtifactTest, RefusesEachWrongPartNamingIt) {
  const auto expect_refused = [](const Parts& parts, const std::string& words) {
    const std::string message = refusal(parts);
    EXPECT_NE(message.find(words), std::string::npos)
        << "wanted \"" << words << "\", got \"" << message << "\"";
  };
  {
    Parts p;
    p.version["format"] = "other";
    expect_refused(p, "version: format: not \"mender\"");
  }
  // The fuzzer's find: a format that is not text was read as text and threw.
  for (const json& format : {json(1), json::object(), json(nullptr)}) {
    Parts p;
    p.version["format"] = format;
    expect_refused(p, "version: format: not \"mender\"");
  }
  {
    Parts p;
    p.version["version"] = 2;
    expect_refused(p, "only format version 3");
  }
  {
    Parts p;
    p.header_info["artifact_depends"].erase("device_type");
    expect_refused(p, "header-info: artifact_depends.device_type: required");
  }
  {
    Parts p;
    p.header_info["artifact_depends"]["device_type"] = json::array();
    expect_refused(p, "artifact_depends.device_type: required");
  }
  {
    Parts p;
    p.header_info["artifact_provides"].erase("artifact_name");
    expect_refused(p, "artifact_provides.artifact_name: required");
  }
  {
    Parts p;
    p.type_infos[0]["type"] = "rootfs-image";
    expect_refused(p, "headers/0000/type-info: type: \"rootfs-image\" is not header-info's");
  }
  {
    Parts p;
    p.manifest_drop = {"data/0000/app.conf"};
    expect_refused(p, "data/0000/app.conf is not in the manifest");
  }
  {
    Parts p;
    p.manifest_extra = {{"data/0000/ghost", std::string(64, 'a')}};
    expect_refused(p, "manifest: data/0000/ghost is listed but not in the artifact");
  }
  {
    Parts p;
    p.manifest_extra = {{"data/0000/app.conf", std::string(64, 'b')}};
    expect_refused(p, "data/0000/app.conf: its SHA-256 is");
  }
  {
    Parts p;
    p.manifest_extra = {{"header.tar.gz", std::string(64, 'c')}};
    expect_refused(p, "header.tar.gz: its SHA-256 is");
  }
  {
    Parts p;
    p.manifest = "not a manifest\n";
    expect_refused(p, "manifest line 1: not \"<sha256>  <path>\"");
  }
  {
    Parts p;  // two payloads announced, one given
    p.header_info["payloads"].push_back({{"type", "single-file"}});
    p.type_infos.push_back({{"type", "single-file"}});
    expect_refused(p, "2 payloads in header-info, 1 data entries");
  }
  {
    Parts p;
    p.header_info["payloads"].push_back({{"type", "single-file"}});
    expect_refused(p, "headers/0001/type-info is missing");
  }
  {
    Parts p;
    p.header_extra = tar_entry("headers/0000/run-me", "#!/bin/sh");
    expect_refused(p, "unexpected entry \"headers/0000/run-me\"");
  }
  {
    Parts p;
    p.header_extra = tar_entry("escape", "", '2');
    expect_refused(p, "is of tar type '2'; an artifact holds regular files only");
  }
  {
    Parts p;
    p.files[0]["../etc"] = "x";
    expect_refused(p, "\"../etc\" is not a plain file name");
  }
}

TEST(MenderArtifactTest, RefusesEntriesOutOfOrderAndABrokenTarHeader) {
  const Parts parts;
  std::string bytes = parts.build();
  // manifest first: swap the first two 1024-byte entries (each is one header + one block).
  const std::string swapped = bytes.substr(1024, 1024) + bytes.substr(0, 1024) + bytes.substr(2048);
  EXPECT_NE(read(swapped).error().message.find("\"version\" expected, found \"manifest\""),
            std::string::npos);
  bytes[10] = 'X';  // inside the first header's name: its checksum no longer matches
  EXPECT_NE(read(bytes).error().message.find("checksum does not match"), std::string::npos);
}

TEST(MenderArtifactTest, AHeaderThatUnpacksPastItsBoundIsRefused) {
  Parts p;
  p.header_extra = tar_entry("scripts/ArtifactInstall_Enter_00", std::string(kMaxHeaderBytes, 'z'));
  EXPECT_NE(refusal(p).find("header.tar.gz unpacked: more than 1048576 bytes"), std::string::npos)
      << refusal(p);
}

TEST(MenderArtifactTest, EveryCutAndEveryFlippedByteOfTheFirstEntriesIsRefused) {
  Parts p;
  p.files = {{{"a", "hello"}}};
  const std::string bytes = p.build();
  ASSERT_TRUE(read(bytes).ok());
  for (std::size_t cut = 0; cut < bytes.size(); cut += (cut < 4096 ? 1 : 61)) {
    const HostResult<Artifact> a = read(bytes.substr(0, cut));
    ASSERT_FALSE(a.ok()) << "cut at " << cut;
    EXPECT_EQ(a.error().code, ErrorCode::kApiBadRequest) << cut;
  }
  // Any change to a byte of the first three entries (version, manifest,
  // header.tar.gz) is caught, in their tar headers or in their contents; only
  // the header fields the reader has no use for (mode, owner, time, names of
  // owner and group, devices) and the padding may change.
  std::size_t entry = 0;
  for (int n = 0; n < 3; ++n) {
    const std::size_t size = std::stoull(bytes.substr(entry + 124, 11), nullptr, 8);
    for (std::size_t at = entry; at < entry + 512 + size; ++at) {
      const std::size_t offset = at - entry;
      if (offset < 512 && ((offset >= 100 && offset < 124) || (offset >= 136 && offset < 148) ||
                           offset == 155 || (offset >= 265 && offset < 345))) {
        continue;
      }
      std::string changed = bytes;
      changed[at] = static_cast<char>(changed[at] ^ 0x01);
      EXPECT_FALSE(read(changed).ok()) << "a flip at " << at << " (entry " << n << ") was accepted";
    }
    entry += 512 + (size + 511) / 512 * 512;
  }
}

// --- Artifacts made by the real tool.

class RealMenderArtifactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v mender-artifact >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "mender-artifact is not installed (scripts/setup.sh installs it)";
    dir_ = std::filesystem::temp_directory_path() / ("mender-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string write(const std::string& name, const std::string& contents) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }
  // Runs mender-artifact with `args` in the test's directory.
  void tool(const std::string& args) {
    const std::string command =
        "cd '" + dir_.string() + "' && mender-artifact " + args + " >tool.log 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  // The PEM public key of the private key file `name` in the test's directory.
  std::string public_key(const std::string& name) {
    const std::string out = (dir_ / (name + ".pub")).string();
    const std::string command =
        "openssl pkey -in '" + (dir_ / name).string() + "' -pubout -out '" + out + "' 2>/dev/null";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    std::ifstream in(out);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::filesystem::path dir_;
};

TEST_F(RealMenderArtifactTest, ReadsAModuleImageAndARootfsImage) {
  const std::string app = std::string(200000, 'x') + "app";
  write("app.bin", app);
  write("notes.txt", "second file\n");
  tool(
      "write module-image -T single-file -n app-2.0 -t gw-a -t gw-b -o module.mender "
      "-f app.bin -f notes.txt --software-name app --software-version 2.0");
  HostResult<Artifact> module = read_artifact_file((dir_ / "module.mender").string());
  ASSERT_TRUE(module.ok()) << module.error().to_string();
  EXPECT_EQ(module->name, "app-2.0");
  EXPECT_EQ(module->device_types, (std::vector<std::string>{"gw-a", "gw-b"}));
  ASSERT_EQ(module->payloads.size(), 1u);
  EXPECT_EQ(module->payloads[0].type, "single-file");
  ASSERT_EQ(module->payloads[0].files.size(), 2u);
  EXPECT_EQ(module->payloads[0].files[0].sha256, sha_hex(app));
  EXPECT_EQ(module->payloads[0].provides.value("rootfs-image.app.version", ""), "2.0");

  const std::string rootfs = std::string(300000, '\0') + "rootfs";
  write("rootfs.ext4", rootfs);
  tool("write rootfs-image -n os-7 -t gw-a -o rootfs.mender -f rootfs.ext4");
  HostResult<Artifact> image = read_artifact_file((dir_ / "rootfs.mender").string());
  ASSERT_TRUE(image.ok()) << image.error().to_string();
  EXPECT_EQ(image->name, "os-7");
  ASSERT_EQ(image->payloads.size(), 1u);
  EXPECT_EQ(image->payloads[0].type, "rootfs-image");
  ASSERT_EQ(image->payloads[0].files.size(), 1u);
  EXPECT_EQ(image->payloads[0].files[0].size, rootfs.size());
  EXPECT_EQ(image->payloads[0].files[0].sha256, sha_hex(rootfs));
}

TEST_F(RealMenderArtifactTest, ReadsAnUncompressedOneAndRefusesXzByName) {
  write("a.txt", "payload");
  tool("--compression none write module-image -T single-file -n n -t t -o plain.mender -f a.txt");
  HostResult<Artifact> plain = read_artifact_file((dir_ / "plain.mender").string());
  ASSERT_TRUE(plain.ok()) << plain.error().to_string();
  EXPECT_EQ(plain->payloads[0].files[0].sha256, sha_hex("payload"));
  tool("--compression lzma write module-image -T single-file -n n -t t -o xz.mender -f a.txt");
  HostResult<Artifact> xz = read_artifact_file((dir_ / "xz.mender").string());
  ASSERT_FALSE(xz.ok());
  EXPECT_EQ(xz.error().message,
            "header.tar.xz: only gzip-compressed or uncompressed artifacts are supported");
}

TEST_F(RealMenderArtifactTest, ASignedArtifactKeepsItsSignatureAndATamperedPayloadIsRefused) {
  // mender-artifact reads a PKCS#1 key ("BEGIN RSA PRIVATE KEY").
  ASSERT_EQ(std::system(("openssl genrsa -traditional -out '" + (dir_ / "key.pem").string() +
                         "' 2048 2>/dev/null")
                            .c_str()),
            0);
  write("a.txt", std::string(5000, 'p'));
  tool("write module-image -T single-file -n signed -t t -o signed.mender -f a.txt -k key.pem");
  HostResult<Artifact> signed_artifact = read_artifact_file((dir_ / "signed.mender").string());
  ASSERT_TRUE(signed_artifact.ok()) << signed_artifact.error().to_string();
  EXPECT_FALSE(signed_artifact->signature.empty());
  EXPECT_NE(signed_artifact->manifest.find("data/0000/a.txt"), std::string::npos);
  EXPECT_TRUE(verify_artifact_signature(*signed_artifact, public_key("key.pem")).ok());
  ASSERT_EQ(std::system(("openssl genrsa -traditional -out '" + (dir_ / "other.pem").string() +
                         "' 2048 2>/dev/null")
                            .c_str()),
            0);
  const HostResult<void> wrong_key =
      verify_artifact_signature(*signed_artifact, public_key("other.pem"));
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_EQ(wrong_key.error().code, ErrorCode::kSignatureInvalid);
  Artifact changed = *signed_artifact;
  changed.manifest[0] = changed.manifest[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(verify_artifact_signature(changed, public_key("key.pem")).error().code,
            ErrorCode::kSignatureInvalid);

  tool("write module-image -T single-file -n plain -t t -o unsigned.mender -f a.txt");
  HostResult<Artifact> unsigned_artifact = read_artifact_file((dir_ / "unsigned.mender").string());
  ASSERT_TRUE(unsigned_artifact.ok());
  EXPECT_EQ(verify_artifact_signature(*unsigned_artifact, public_key("key.pem")).error().code,
            ErrorCode::kSignatureMissing);

  // The same payload, changed after the artifact was made: uncompressed, so the
  // bytes can be found and changed in place.
  tool("--compression none write module-image -T single-file -n n -t t -o plain.mender -f a.txt");
  std::ifstream in(dir_ / "plain.mender", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t at = bytes.find(std::string(5000, 'p'));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 100] = 'q';
  const HostResult<Artifact> tampered = read(bytes);
  ASSERT_FALSE(tampered.ok());
  EXPECT_NE(tampered.error().message.find("data/0000/a.txt: its SHA-256 is"), std::string::npos)
      << tampered.error().message;
}

TEST_F(RealMenderArtifactTest, AnEcdsaSignatureFromTheToolVerifies) {
  ASSERT_EQ(std::system(("openssl ecparam -genkey -name prime256v1 -noout -out '" +
                         (dir_ / "ec.pem").string() + "' 2>/dev/null")
                            .c_str()),
            0);
  write("a.txt", "ecdsa signed");
  tool("write module-image -T single-file -n ec -t t -o ec.mender -f a.txt -k ec.pem");
  HostResult<Artifact> artifact = read_artifact_file((dir_ / "ec.mender").string());
  ASSERT_TRUE(artifact.ok()) << artifact.error().to_string();
  const HostResult<void> verified = verify_artifact_signature(*artifact, public_key("ec.pem"));
  EXPECT_TRUE(verified.ok()) << verified.error().to_string();
  Artifact changed = *artifact;
  changed.manifest += "\n";
  EXPECT_EQ(verify_artifact_signature(changed, public_key("ec.pem")).error().code,
            ErrorCode::kSignatureInvalid);
}

}  // namespace
}  // namespace updraft::server::mender
