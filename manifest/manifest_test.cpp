// The manifest and root formats as bytes: round trips, limits, and that no cut or
// changed byte of a signed file ever verifies.
#include "manifest/manifest.h"

#include <gtest/gtest.h>

#include "manifest/root_metadata.h"
#include "manifest/testing/metadata_fixtures.h"

namespace updraft::manifest {
namespace {

using testing::answer_spec;
using testing::delta_answer_spec;
using testing::keys;
using testing::must;

template <typename T>
ErrorCode parse_code(const Result<T>& r) {
  return r.ok() ? ErrorCode::kOk : r.error();
}

std::vector<std::byte> signed_answer(const ManifestSpec& spec) {
  return testing::sign_manifest(spec, {&keys().release_a});
}

std::vector<std::byte> reencode(const Manifest& m) {
  std::vector<std::byte> out = must(encode_manifest(manifest_spec_of(m)));
  const std::vector<std::byte> block = encode_signatures(m.signatures);
  out.insert(out.end(), block.begin(), block.end());
  return out;
}

std::vector<ManifestSpec> sample_specs() {
  ManifestSpec release = answer_spec();
  release.check_in.reset();
  ManifestSpec downgrade = delta_answer_spec();
  downgrade.allow_downgrade = true;
  downgrade.version = "1.0.0-rc.1+build.7";
  ManifestSpec widest = answer_spec();
  widest.product = std::string(kMaxProductSize, 'p');
  widest.hardware.clear();
  for (std::size_t i = 0; i < kMaxHardwareIds; ++i)
    widest.hardware.push_back(std::string(kMaxHardwareIdSize, static_cast<char>('a' + i)));
  widest.version = "4294967295.0.0-rc.1234";
  widest.delta = delta_answer_spec().delta;
  return {answer_spec(), delta_answer_spec(), release, downgrade, widest};
}

TEST(ManifestTest, BuildSerializeParseRoundTrips) {
  for (const ManifestSpec& spec : sample_specs()) {
    const std::vector<std::byte> bytes = signed_answer(spec);
    const Manifest parsed = must(parse_manifest(bytes));
    EXPECT_EQ(manifest_spec_of(parsed), spec) << spec.version;
    EXPECT_EQ(reencode(parsed), bytes) << spec.version;
    EXPECT_EQ(parsed.signed_region.size(), must(encode_manifest(spec)).size());
    ASSERT_EQ(parsed.signatures.count, 1u);
    EXPECT_EQ(parsed.signatures.entries[0].key_id, key_id_of(keys().release_a.public_key()));
  }
}

TEST(ManifestTest, LargestManifestFitsItsDeclaredMaximum) {
  const ManifestSpec widest = sample_specs().back();
  ManifestSpec spec = widest;
  spec.version = std::string("1.2.3-") + std::string(kMaxVersionSize - 6, 'x');
  const std::vector<std::byte> bytes = testing::sign_manifest(
      spec, {&keys().release_a, &keys().release_b, &keys().release_c, &keys().stranger});
  EXPECT_EQ(bytes.size(), kMaxEccManifestSize);
  EXPECT_TRUE(parse_manifest(bytes).ok());
}

TEST(ManifestTest, BuilderRefusesWhatDevicesWouldRefuse) {
  const auto refused = [](ManifestSpec spec) { return !encode_manifest(spec).ok(); };
  ManifestSpec s = answer_spec();
  s.product = "";
  EXPECT_TRUE(refused(s));
  s = answer_spec();
  s.product = "has space";
  EXPECT_TRUE(refused(s));
  s = answer_spec();
  s.product = std::string(kMaxProductSize + 1, 'p');
  EXPECT_TRUE(refused(s));
  s = answer_spec();
  s.hardware.clear();
  EXPECT_TRUE(refused(s));
  s = answer_spec();
  s.hardware = std::vector<std::string>(kMaxHardwareIds + 1, "x");
  EXPECT_TRUE(refused(s));
  s = answer_spec();
  s.hardware = {"rev-b", "rev-b"};
  EXPECT_TRUE(refused(s));
  for (const char* version : {"1.2", "01.2.3", "1.2.3-", "1.2.3-01", "v1.2.3", "1.2.3-rc..1",
                              "4294967296.0.0", "1.2.3-this-is-far-too-long"}) {
    s = answer_spec();
    s.version = version;
    EXPECT_TRUE(refused(s)) << version;
  }
}

TEST(ManifestTest, TruncationAtEveryLengthNeverParses) {
  for (const ManifestSpec& spec : sample_specs()) {
    const std::vector<std::byte> bytes = signed_answer(spec);
    for (std::size_t size = 0; size < bytes.size(); ++size) {
      EXPECT_EQ(parse_code(parse_manifest(ByteView(bytes).first(size))),
                ErrorCode::kManifestMalformed)
          << "cut at " << size;
    }
  }
}

TEST(ManifestTest, TrailingBytesAreRefused) {
  std::vector<std::byte> bytes = signed_answer(answer_spec());
  bytes.push_back(std::byte{0});
  EXPECT_EQ(parse_code(parse_manifest(bytes)), ErrorCode::kManifestMalformed);
}

TEST(ManifestTest, SingleByteCorruptionNeverVerifies) {
  const std::vector<std::byte> root = testing::root_v1();
  for (const ManifestSpec& spec : {answer_spec(), delta_answer_spec()}) {
    const std::vector<std::byte> good = signed_answer(spec);
    ASSERT_TRUE(testing::device_accepts(good, root).ok());
    for (std::size_t i = 0; i < good.size(); ++i) {
      for (const std::byte flip : {std::byte{0x01}, std::byte{0x80}, std::byte{0xFF}}) {
        std::vector<std::byte> bad = good;
        bad[i] ^= flip;
        EXPECT_FALSE(testing::device_accepts(bad, root).ok()) << "byte " << i << " ^ " << int(flip);
      }
    }
  }
}

TEST(ManifestTest, HeaderFieldsAreChecked) {
  const std::vector<std::byte> good = signed_answer(answer_spec());
  for (const std::size_t offset :
       {std::size_t{0}, std::size_t{3}, std::size_t{4}, std::size_t{5}, std::size_t{6}}) {
    std::vector<std::byte> bad = good;
    bad[offset] ^= std::byte{0x02};
    EXPECT_EQ(parse_code(parse_manifest(bad)), ErrorCode::kManifestMalformed)
        << "offset " << offset;
  }
  // A root is not a manifest, and the other way round.
  EXPECT_EQ(parse_code(parse_manifest(testing::root_v1())), ErrorCode::kManifestMalformed);
  EXPECT_EQ(parse_code(parse_root(good)), ErrorCode::kManifestMalformed);
}

TEST(ManifestTest, UnknownFlagIsRefused) {
  std::vector<std::byte> bytes = must(encode_manifest(answer_spec()));
  const Manifest m = must(parse_manifest([&] {
    std::vector<std::byte> unsigned_bytes = bytes;
    unsigned_bytes.push_back(std::byte{0});
    return unsigned_bytes;
  }()));
  // The flags byte sits after the counter, four bytes before the image size.
  const std::size_t flags_offset =
      kHeaderSize + 1 + m.product.size() + 1 + (1 + 11) * 2 + 1 + m.version_text.size() + 4;
  ASSERT_EQ(bytes[flags_offset], std::byte{kFlagCheckIn});
  bytes[flags_offset] |= std::byte{0x08};
  bytes.push_back(std::byte{0});
  EXPECT_EQ(parse_code(parse_manifest(bytes)), ErrorCode::kManifestMalformed);
}

TEST(ManifestTest, MoreThanFourSignaturesAreRefused) {
  std::vector<std::byte> bytes = testing::sign_manifest(
      answer_spec(), {&keys().release_a, &keys().release_b, &keys().release_c, &keys().stranger});
  EXPECT_TRUE(parse_manifest(bytes).ok());
  EXPECT_FALSE(add_signature(bytes, keys().root_a).ok());
  // Forge a fifth entry by hand: the parser refuses before reading it.
  const std::size_t count_offset = must(encode_manifest(answer_spec())).size();
  bytes[count_offset] = std::byte{5};
  bytes.insert(bytes.end(), bytes.end() - kSignatureEntrySize, bytes.end());
  EXPECT_EQ(parse_code(parse_manifest(bytes)), ErrorCode::kManifestMalformed);
}

TEST(ManifestTest, DuplicateSignatureKeyIdIsRefused) {
  std::vector<std::byte> bytes = signed_answer(answer_spec());
  const std::size_t count_offset = bytes.size() - 1 - kSignatureEntrySize;
  bytes[count_offset] = std::byte{2};
  bytes.insert(bytes.end(), bytes.end() - kSignatureEntrySize, bytes.end());
  // Each key counts once toward a threshold, so a copied signature is malformed, not a second vote.
  EXPECT_EQ(parse_code(parse_manifest(bytes)), ErrorCode::kManifestMalformed);
}

// --- RSA signatures: their size follows the algorithm.

TEST(ManifestTest, RsaSignedManifestRoundTripsWithSignaturesOfItsAlgorithmsSize) {
  const std::vector<std::byte> bytes = testing::sign_manifest(
      delta_answer_spec(),
      {&testing::rsa_keys().release, &testing::rsa_keys().release_3072, &keys().release_b});
  const Manifest parsed = must(parse_manifest(bytes));
  ASSERT_EQ(parsed.signatures.count, 3u);
  EXPECT_EQ(parsed.signatures.entries[0].signature.size(), 256u);
  EXPECT_EQ(parsed.signatures.entries[1].signature.size(), 384u);
  EXPECT_EQ(parsed.signatures.entries[2].signature.size(), 64u);
  EXPECT_EQ(reencode(parsed), bytes);
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_EQ(parse_code(parse_manifest(ByteView(bytes).first(size))),
              ErrorCode::kManifestMalformed)
        << size;
  }
}

TEST(ManifestTest, ManifestOverOneKibibyteIsRefusedWhateverItsSignatures) {
  // Three RSA-3072 signatures on the widest manifest: within the count limit, over
  // the device's buffer.
  const std::vector<std::byte> one =
      testing::sign_manifest(sample_specs().back(), {&testing::rsa_keys().release_3072});
  ASSERT_TRUE(parse_manifest(one).ok());
  const HostResult<std::vector<std::byte>> two = add_signature(one, testing::rsa_keys().root);
  ASSERT_FALSE(two.ok()) << "the signer refuses what a device would refuse";
  EXPECT_EQ(two.error().code, ErrorCode::kInvalidArgument);
  // Forged by hand: the entry copied under another key id.
  std::vector<std::byte> forged = one;
  const std::size_t entry = 8 + 1 + 384;
  const std::size_t count_offset = forged.size() - 1 - entry;
  forged[count_offset] = std::byte{2};
  forged.insert(forged.end(), forged.end() - entry, forged.end());
  forged[forged.size() - entry] ^= std::byte{1};  // another key id
  ASSERT_GT(forged.size(), kMaxManifestSize);
  EXPECT_EQ(parse_code(parse_manifest(forged)), ErrorCode::kManifestMalformed);
}

TEST(ManifestTest, UnknownAlgorithmValueIsMalformed) {
  std::vector<std::byte> bytes = signed_answer(answer_spec());
  const std::size_t algorithm_offset = bytes.size() - kSignatureSize - 1;
  for (const int value : {0, 5, 255}) {
    std::vector<std::byte> bad = bytes;
    bad[algorithm_offset] = static_cast<std::byte>(value);
    EXPECT_EQ(parse_code(parse_manifest(bad)), ErrorCode::kManifestMalformed) << value;
  }
}

// --- Root metadata.

std::vector<RootSpec> sample_roots() {
  RootSpec wide = testing::root_v1_spec();
  wide.version = 7;
  wide.expires = testing::kNow + 365 * 86400;
  wide.root_keys =
      testing::public_keys({&keys().root_a, &keys().root_b, &keys().root_c, &keys().root_d});
  wide.root_threshold = 3;
  wide.release_keys = testing::public_keys({&keys().release_a, &keys().release_b});
  wide.release_threshold = 2;
  wide.revoked = {key_id_of(keys().stranger.public_key()), KeyId{std::byte{1}, std::byte{2}}};
  return {testing::root_v1_spec(), wide};
}

TEST(RootMetadataTest, BuildSerializeParseRoundTrips) {
  for (const RootSpec& spec : sample_roots()) {
    const std::vector<std::byte> bytes = testing::sign_root(spec, {&keys().root_a, &keys().root_b});
    const RootMetadata root = must(parse_root(bytes));
    EXPECT_EQ(root_spec_of(root), spec);
    std::vector<std::byte> again = must(encode_root(root_spec_of(root)));
    const std::vector<std::byte> block = encode_signatures(root.signatures);
    again.insert(again.end(), block.begin(), block.end());
    EXPECT_EQ(again, bytes);
    for (std::size_t i = 0; i < root.root_keys.count; ++i) {
      EXPECT_EQ(root.root_keys.keys[i].id, key_id_of(spec.root_keys[i].bytes));
    }
  }
}

TEST(RootMetadataTest, TruncationAtEveryLengthNeverParses) {
  for (const RootSpec& spec : sample_roots()) {
    const std::vector<std::byte> bytes = testing::sign_root(spec, {&keys().root_a});
    for (std::size_t size = 0; size < bytes.size(); ++size) {
      EXPECT_EQ(parse_code(parse_root(ByteView(bytes).first(size))), ErrorCode::kManifestMalformed)
          << size;
    }
  }
}

TEST(RootMetadataTest, SingleByteCorruptionNeverRotates) {
  RootSpec v2 = testing::root_v1_spec();
  v2.version = 2;
  v2.release_keys = testing::public_keys({&keys().release_c});
  const std::vector<std::byte> trusted = testing::root_v1();
  const std::vector<std::byte> good = testing::sign_root(v2, {&keys().root_a});
  ASSERT_TRUE(testing::device_rotates(trusted, good).ok());
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (const std::byte flip : {std::byte{0x01}, std::byte{0x80}}) {
      std::vector<std::byte> bad = good;
      bad[i] ^= flip;
      EXPECT_FALSE(testing::device_rotates(trusted, bad).ok())
          << "byte " << i << " ^ " << int(flip);
    }
  }
}

// A made-up RSA modulus of `bytes` bytes (top bit set, odd), for size limits: the
// parser checks the form, not the arithmetic.
PublicKey fake_rsa_key(SignatureAlgorithm algorithm, std::uint8_t seed) {
  PublicKey key{algorithm, std::vector<std::byte>(public_key_size(algorithm), std::byte{seed})};
  key.bytes.front() = std::byte{0xC0};
  key.bytes.back() = std::byte{0x01};
  return key;
}

TEST(RootMetadataTest, LargestRsaRootFitsItsDeclaredMaximum) {
  RootSpec spec;
  spec.version = 1;
  for (std::uint8_t i = 0; i < kMaxKeysPerRole; ++i) {
    spec.root_keys.push_back(fake_rsa_key(SignatureAlgorithm::kRsa3072PssSha256, i));
    spec.release_keys.push_back(
        fake_rsa_key(SignatureAlgorithm::kRsa3072PssSha256, static_cast<std::uint8_t>(100 + i)));
  }
  for (std::uint8_t i = 0; i < kMaxRevokedKeys; ++i) spec.revoked.push_back(KeyId{std::byte{i}});
  std::vector<std::byte> bytes = must(encode_root(spec));
  SignatureList signatures;
  static const std::vector<std::byte> signature(384, std::byte{0x77});
  for (std::size_t i = 0; i < kMaxRootSignatures; ++i) {
    signatures.entries[i] = SignatureEntry{key_id_of(spec.root_keys[i].bytes),
                                           SignatureAlgorithm::kRsa3072PssSha256, signature};
  }
  signatures.count = kMaxRootSignatures;
  const std::vector<std::byte> block = encode_signatures(signatures);
  bytes.insert(bytes.end(), block.begin(), block.end());
  EXPECT_EQ(bytes.size(), kMaxRootSize);
  const RootMetadata root = must(parse_root(bytes));
  EXPECT_EQ(root_spec_of(root), spec);
  bytes.push_back(std::byte{0});
  EXPECT_EQ(parse_code(parse_root(bytes)), ErrorCode::kManifestMalformed);
}

TEST(RootMetadataTest, RsaModulusWithoutItsTopBitOrEvenIsMalformed) {
  RootSpec spec = testing::root_v1_spec();
  spec.release_keys = {testing::rsa_keys().release.public_key()};
  ASSERT_TRUE(encode_root(spec).ok());
  RootSpec short_modulus = spec;
  short_modulus.release_keys[0].bytes[0] &= std::byte{0x7F};
  EXPECT_FALSE(encode_root(short_modulus).ok());
  RootSpec even = spec;
  even.release_keys[0].bytes.back() &= std::byte{0xFE};
  EXPECT_FALSE(encode_root(even).ok());
}

TEST(RootMetadataTest, BuilderRefusesInconsistentRoles) {
  const auto refused = [](RootSpec spec) { return !encode_root(spec).ok(); };
  RootSpec s = testing::root_v1_spec();
  s.root_threshold = 0;
  EXPECT_TRUE(refused(s));
  s = testing::root_v1_spec();
  s.root_threshold = 3;  // of 2 keys
  EXPECT_TRUE(refused(s));
  s = testing::root_v1_spec();
  s.release_keys.clear();
  EXPECT_TRUE(refused(s));
  s = testing::root_v1_spec();
  s.release_keys.push_back(s.root_keys[0]);  // one key, two roles
  EXPECT_TRUE(refused(s));
  s = testing::root_v1_spec();
  s.root_keys.push_back(s.root_keys[0]);
  EXPECT_TRUE(refused(s));
  s = testing::root_v1_spec();
  s.revoked = {key_id_of(s.release_keys[0].bytes)};  // listed and revoked
  EXPECT_TRUE(refused(s));
  s = testing::root_v1_spec();
  s.root_keys[0].bytes.pop_back();
  EXPECT_TRUE(refused(s));
  s = testing::root_v1_spec();
  s.root_keys.push_back(keys().root_c.public_key());
  s.root_keys.back().bytes[0] = std::byte{0x02};  // compressed-point prefix
  EXPECT_TRUE(refused(s));
}

}  // namespace
}  // namespace updraft::manifest
