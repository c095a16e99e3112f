#include "manifest/artifact_verifier.h"

#include <gtest/gtest.h>

#include <random>

#include "manifest/testing/metadata_fixtures.h"

namespace updraft::manifest {
namespace {

using testing::must;

ErrorCode code_of(const Result<void>& r) { return r.ok() ? ErrorCode::kOk : r.error(); }

Manifest parse_kept(const std::vector<std::byte>& bytes) { return must(parse_manifest(bytes)); }

TEST(ArtifactVerifierTest, AcceptsExactArtifactInAnyChunking) {
  const std::vector<std::byte> bytes = testing::sign_manifest(testing::delta_answer_spec(), {});
  const Manifest manifest = parse_kept(bytes);
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    ArtifactVerifier v;
    ASSERT_TRUE(v.start(manifest, ArtifactKind::kFullImage).ok());
    ByteView rest(testing::image_v2());
    while (!rest.empty()) {
      const std::size_t take = std::min<std::size_t>(rest.size(), 1 + rng() % 700);
      ASSERT_TRUE(v.update(rest.first(take)).ok());
      rest = rest.subspan(take);
    }
    EXPECT_EQ(v.received(), testing::image_v2().size());
    EXPECT_EQ(code_of(v.finish()), ErrorCode::kOk);
  }
}

TEST(ArtifactVerifierTest, DeclaresSizeOfEachArtifactKind) {
  const std::vector<std::byte> delta = testing::sign_manifest(testing::delta_answer_spec(), {});
  const std::vector<std::byte> full = testing::sign_manifest(testing::answer_spec(), {});
  EXPECT_EQ(*declared_size(parse_kept(delta), ArtifactKind::kPatch),
            testing::patch_v1_to_v2().size());
  EXPECT_EQ(*declared_size(parse_kept(delta), ArtifactKind::kFullImage),
            testing::image_v2().size());
  EXPECT_EQ(*declared_size(parse_kept(full), ArtifactKind::kFullImage), testing::image_v2().size());
  // A full-image manifest names no patch: a downloader told to fetch one must refuse.
  EXPECT_EQ(declared_size(parse_kept(full), ArtifactKind::kPatch).error(),
            ErrorCode::kArtifactKindMismatch);
  ArtifactVerifier v;
  EXPECT_EQ(v.start(parse_kept(full), ArtifactKind::kPatch).error(),
            ErrorCode::kArtifactKindMismatch);
}

TEST(ArtifactVerifierTest, RefusesChunkThatRunsPastDeclaredSizeWithoutTakingIt) {
  const std::vector<std::byte> bytes = testing::sign_manifest(testing::delta_answer_spec(), {});
  const Manifest manifest = parse_kept(bytes);
  ArtifactVerifier v;
  ASSERT_TRUE(v.start(manifest, ArtifactKind::kPatch).ok());
  const std::vector<std::byte>& patch = testing::patch_v1_to_v2();
  ASSERT_TRUE(v.update(ByteView(patch).first(patch.size() - 10)).ok());
  std::vector<std::byte> too_much(ByteView(patch).last(10).begin(), ByteView(patch).last(10).end());
  too_much.push_back(std::byte{0});
  EXPECT_EQ(code_of(v.update(too_much)), ErrorCode::kArtifactTooLarge);
  EXPECT_EQ(v.received(), patch.size() - 10);
  ASSERT_TRUE(v.update(ByteView(patch).last(10)).ok());
  EXPECT_EQ(code_of(v.finish()), ErrorCode::kOk);
}

TEST(ArtifactVerifierTest, RefusesShortArtifact) {
  const std::vector<std::byte> bytes = testing::sign_manifest(testing::answer_spec(), {});
  const Manifest manifest = parse_kept(bytes);
  ArtifactVerifier v;
  ASSERT_TRUE(v.start(manifest, ArtifactKind::kFullImage).ok());
  ASSERT_TRUE(v.update(ByteView(testing::image_v2()).first(100)).ok());
  EXPECT_EQ(code_of(v.finish()), ErrorCode::kArtifactTruncated);
}

TEST(ArtifactVerifierTest, RefusesArtifactWithOtherContent) {
  const std::vector<std::byte> bytes = testing::sign_manifest(testing::answer_spec(), {});
  const Manifest manifest = parse_kept(bytes);
  ArtifactVerifier v;
  ASSERT_TRUE(v.start(manifest, ArtifactKind::kFullImage).ok());
  std::vector<std::byte> image = testing::image_v2();
  image[1234] ^= std::byte{1};
  ASSERT_TRUE(v.update(image).ok());
  EXPECT_EQ(code_of(v.finish()), ErrorCode::kHashMismatch);
}

}  // namespace
}  // namespace updraft::manifest
