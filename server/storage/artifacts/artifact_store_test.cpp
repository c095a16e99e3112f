// The directory artifact store: what goes in comes out by kind and name, a
// replaced artifact is whole, absent ones are named as such, and no name reaches
// outside its directory.
#include "server/storage/artifacts/artifact_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

namespace updraft::server {
namespace {

std::vector<std::byte> bytes_of(const std::string& text) {
  const auto* p = reinterpret_cast<const std::byte*>(text.data());
  return {p, p + text.size()};
}

class DirectoryArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("updraft-artifacts-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    HostResult<std::unique_ptr<DirectoryArtifactStore>> opened =
        DirectoryArtifactStore::open(dir_.string());
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    store_ = std::move(*opened);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::unique_ptr<DirectoryArtifactStore> store_;
};

TEST_F(DirectoryArtifactStoreTest, WhatGoesInComesOutByKindAndName) {
  const std::string name(64, 'a');
  EXPECT_FALSE(*store_->exists(ArtifactKind::kImage, name));
  EXPECT_EQ(store_->read(ArtifactKind::kImage, name).error().code, ErrorCode::kStoreNotFound);
  EXPECT_EQ(store_->locate(ArtifactKind::kImage, name).error().code, ErrorCode::kStoreNotFound);

  // A staged file moves in; bytes in memory are written in.
  const std::string staged = store_->staging_dir() + "/upload-1";
  std::ofstream(staged) << "image bytes";
  ASSERT_TRUE(store_->put(ArtifactKind::kImage, name, staged).ok());
  EXPECT_FALSE(std::filesystem::exists(staged)) << "the staged file is consumed";
  ASSERT_TRUE(store_->put_bytes(ArtifactKind::kPatch, name, bytes_of("patch bytes")).ok());

  EXPECT_TRUE(*store_->exists(ArtifactKind::kImage, name));
  EXPECT_EQ(*store_->read(ArtifactKind::kImage, name), bytes_of("image bytes"));
  EXPECT_EQ(*store_->read(ArtifactKind::kPatch, name), bytes_of("patch bytes"))
      << "each kind has its own names";
  HostResult<ArtifactLocation> where = store_->locate(ArtifactKind::kImage, name);
  ASSERT_TRUE(where.ok());
  EXPECT_EQ(where->path, (dir_ / "images" / name).string());
  EXPECT_EQ(where->size, 11u);

  // Replaced whole, then removed; removing again is no error.
  ASSERT_TRUE(store_->put_bytes(ArtifactKind::kPatch, name, bytes_of("new")).ok());
  EXPECT_EQ(*store_->read(ArtifactKind::kPatch, name), bytes_of("new"));
  ASSERT_TRUE(store_->remove(ArtifactKind::kPatch, name).ok());
  EXPECT_FALSE(*store_->exists(ArtifactKind::kPatch, name));
  EXPECT_TRUE(store_->remove(ArtifactKind::kPatch, name).ok());
  EXPECT_TRUE(*store_->exists(ArtifactKind::kImage, name));
}

TEST_F(DirectoryArtifactStoreTest, NamesThatAreNotOnePlainFileNameAreRefused) {
  std::ofstream(dir_ / "secret") << "outside";
  const std::vector<std::string> names = {"",         "../secret", "a/b",
                                          ".staging", "..",        std::string("x\0y", 3)};
  for (const std::string& name : names) {
    EXPECT_EQ(store_->read(ArtifactKind::kImage, name).error().code, ErrorCode::kInvalidArgument)
        << name;
    EXPECT_EQ(store_->put_bytes(ArtifactKind::kPatch, name, bytes_of("x")).error().code,
              ErrorCode::kInvalidArgument)
        << name;
    EXPECT_FALSE(store_->remove(ArtifactKind::kImage, name).ok()) << name;
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ / "secret"));
}

TEST_F(DirectoryArtifactStoreTest, OpeningWhereNoDirectoryCanBeMadeFails) {
  std::ofstream(dir_ / "a-file") << "x";
  HostResult<std::unique_ptr<DirectoryArtifactStore>> opened =
      DirectoryArtifactStore::open((dir_ / "a-file").string());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kIoError);
}

}  // namespace
}  // namespace updraft::server
