// core/host beside its code: hex, whole-file helpers and errors.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "core/host/error.h"
#include "core/host/file.h"
#include "core/host/hex.h"

namespace updraft {
namespace {

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("updraft-core-host-" + std::to_string(::getpid()) + "-" +
             std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

TEST(HexTest, RoundTripsEveryByteValue) {
  std::vector<std::byte> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<std::byte>(i);
  const std::string text = to_hex(all);
  ASSERT_EQ(text.size(), 512u);
  EXPECT_EQ(text.substr(0, 6), "000102");
  EXPECT_EQ(text.substr(text.size() - 2), "ff");
  HostResult<std::vector<std::byte>> back = from_hex(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, all);
}

TEST(HexTest, AcceptsUpperCaseAndRefusesOddLengthOrNonDigits) {
  HostResult<std::vector<std::byte>> upper = from_hex("ABcd");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ((*upper)[0], std::byte{0xab});
  for (const char* bad : {"abc", "zz", "0g", " 00"}) {
    HostResult<std::vector<std::byte>> r = from_hex(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(FileTest, WriteAtomicThenReadGivesTheSameBytesAndLeavesNoTempFile) {
  TempDir dir;
  const std::string path = dir.file("image.bin");
  std::vector<std::byte> data(100'000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7);
  ASSERT_TRUE(write_file_atomic(path, data).ok());
  HostResult<std::vector<std::byte>> read = read_file(path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, data);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  // A second write replaces the file whole.
  const std::vector<std::byte> shorter(10, std::byte{1});
  ASSERT_TRUE(write_file_atomic(path, shorter).ok());
  EXPECT_EQ(*read_file(path), shorter);
}

TEST(FileTest, ReadingAMissingFileNamesIt) {
  TempDir dir;
  HostResult<std::vector<std::byte>> r = read_file(dir.file("absent"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("absent"), std::string::npos) << r.error().message;
}

TEST(FileTest, WritingIntoAMissingFolderFailsWithoutCreatingIt) {
  TempDir dir;
  const std::string path = dir.file("no/such/folder/file");
  EXPECT_FALSE(write_file_atomic(path, std::vector<std::byte>(4)).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.file("no")));
}

TEST(FileTest, ReadAtAndWriteAtMoveWholeRanges) {
  TempDir dir;
  const std::string path = dir.file("flash");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  std::vector<std::byte> data(8192, std::byte{0x5a});
  ASSERT_TRUE(write_at(fd, data.data(), data.size(), 4096));
  std::vector<std::byte> back(8192);
  ASSERT_TRUE(read_at(fd, back.data(), back.size(), 4096));
  EXPECT_EQ(back, data);
  // The hole before the write reads as zeros; past the end is a short read.
  ASSERT_TRUE(read_at(fd, back.data(), 4096, 0));
  EXPECT_EQ(back[0], std::byte{0});
  EXPECT_FALSE(read_at(fd, back.data(), 10, 4096 + 8192 - 5));
  ::close(fd);
}

// Resident memory of this process, from /proc/self/status.
std::uint64_t resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

TEST(MappedFileTest, MapsAFileAndReleasedPagesLeaveMemoryButReadBackTheSame) {
  TempDir dir;
  const std::string path = dir.file("rootfs.img");
  std::vector<std::byte> data(32u << 20);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 131 >> 7);
  ASSERT_TRUE(write_file_atomic(path, data).ok());
  HostResult<MappedFile> file = MappedFile::open(path);
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  const ByteView bytes = file->bytes();
  ASSERT_EQ(bytes.size(), data.size());
  const std::uint64_t before = resident_kib();
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), data.begin()));
  const std::uint64_t touched = resident_kib();
  EXPECT_GE(touched, before + 24 * 1024) << "reading the mapping brings its pages in";
  file->release(bytes);
  EXPECT_LE(resident_kib(), touched - 24 * 1024) << "release hands them back";
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), data.begin()));
}

TEST(MappedFileTest, AnEmptyFileAFifoAndAMissingFile) {
  TempDir dir;
  const std::string empty = dir.file("empty");
  ASSERT_TRUE(write_file_atomic(empty, {}).ok());
  HostResult<MappedFile> mapped = MappedFile::open(empty);
  ASSERT_TRUE(mapped.ok());
  EXPECT_TRUE(mapped->bytes().empty());

  // A FIFO cannot be mapped: it is read whole instead.
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::vector<std::byte> sent(100'000, std::byte{0x42});
  std::thread writer([&] {
    std::ofstream(fifo, std::ios::binary)
        .write(reinterpret_cast<const char*>(sent.data()),
               static_cast<std::streamsize>(sent.size()));
  });
  HostResult<MappedFile> piped = MappedFile::open(fifo);
  writer.join();
  ASSERT_TRUE(piped.ok()) << piped.error().to_string();
  EXPECT_TRUE(std::equal(piped->bytes().begin(), piped->bytes().end(), sent.begin(), sent.end()));
  piped->release(piped->bytes());  // nothing to hand back; the bytes stay
  EXPECT_EQ(piped->bytes().size(), sent.size());

  HostResult<MappedFile> missing = MappedFile::open(dir.file("absent"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kIoError);
  EXPECT_NE(missing.error().message.find("absent"), std::string::npos);
}

TEST(ErrorTest, ToStringNamesTheCodeItsNumberAndTheMessage) {
  const Error e(ErrorCode::kPatchTruncated, "after 12 bytes");
  EXPECT_EQ(e.to_string(), "PATCH_TRUNCATED (101): after 12 bytes");
  const Error plain(ErrorCode::kHashMismatch);
  EXPECT_EQ(plain.message, std::string(describe(ErrorCode::kHashMismatch)));
}

}  // namespace
}  // namespace updraft
