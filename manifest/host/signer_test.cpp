#include "manifest/host/signer.h"

#include <gtest/gtest.h>

#include "manifest/host/key_ids.h"
#include "manifest/testing/metadata_fixtures.h"

namespace updraft::manifest {
namespace {

using testing::keys;
using testing::must;

TEST(SignerTest, AddSignatureKeepsEarlierSignaturesAndSignedRegion) {
  // Two holders of root keys sign one after the other, as `updraft root sign` does.
  const std::vector<std::byte> region = must(encode_root(testing::root_v1_spec()));
  const std::vector<std::byte> once = must(sign_metadata(region, {&keys().root_a}));
  const std::vector<std::byte> twice = must(add_signature(once, keys().root_b));
  EXPECT_EQ(std::vector<std::byte>(twice.begin(),
                                   twice.begin() + static_cast<std::ptrdiff_t>(region.size())),
            region);
  const RootMetadata root = must(parse_root(twice));
  ASSERT_EQ(root.signatures.count, 2u);
  EXPECT_EQ(root.signatures.entries[0].key_id, key_id_of(keys().root_a.public_key()));
  EXPECT_EQ(root.signatures.entries[1].key_id, key_id_of(keys().root_b.public_key()));
  EXPECT_EQ(must(sign_metadata(region, {&keys().root_a, &keys().root_b})).size(), twice.size());
}

TEST(SignerTest, RefusesSecondSignatureBySameKey) {
  const std::vector<std::byte> once = testing::root_v1();
  const HostResult<std::vector<std::byte>> again = add_signature(once, keys().root_a);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kInvalidArgument);
}

TEST(SignerTest, RefusesBytesThatAreNotMetadata) {
  const std::vector<std::byte> junk(40, std::byte{'x'});
  EXPECT_EQ(add_signature(junk, keys().root_a).error().code, ErrorCode::kManifestMalformed);
  EXPECT_EQ(metadata_kind(junk).error(), ErrorCode::kManifestMalformed);
  EXPECT_EQ(*metadata_kind(testing::root_v1()), MetadataKind::kRoot);
  EXPECT_EQ(*metadata_kind(testing::sign_manifest(testing::answer_spec(), {})),
            MetadataKind::kManifest);
}

TEST(KeyIdsTest, HexRoundTripsAndRejectsBadText) {
  const KeyId id = key_id_of(keys().root_a.public_key());
  const std::string hex = key_id_hex(id);
  EXPECT_EQ(hex.size(), 16u);
  EXPECT_EQ(must(parse_key_id_hex(hex)), id);
  EXPECT_FALSE(parse_key_id_hex(hex.substr(1)).ok());
  EXPECT_FALSE(parse_key_id_hex("0123456789abcdeg").ok());
  EXPECT_EQ(must(parse_key_id_hex("0123456789ABCDEF")), must(parse_key_id_hex("0123456789abcdef")));
}

}  // namespace
}  // namespace updraft::manifest
