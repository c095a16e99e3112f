// The diff engine beside its code: the suffix array's matches, the covers it
// finds, and make_patch's round trip through the real patcher for every profile.
#include "delta/diff/diff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <string>

#include "delta/diff/anchor_index.h"
#include "delta/diff/cover_finder.h"
#include "delta/diff/suffix_array.h"
#include "delta/format/layout.h"
#include "delta/patch/host/apply.h"
#include "delta/testing/test_images.h"

namespace updraft::delta {
namespace {

using test_images::Bytes;

bool same_bytes(ByteView text, std::uint32_t at, ByteView pattern, std::uint32_t length) {
  return at + length <= text.size() && std::memcmp(text.data() + at, pattern.data(), length) == 0;
}

// Property: a pattern cut from the text is found whole, and the match is real.
TEST(SuffixArrayTest, FindsEveryPatternCutFromTheText) {
  const Bytes text = test_images::firmware_like(32 * 1024, 7);
  HostResult<SuffixArray> index = SuffixArray::build(text);
  ASSERT_TRUE(index.ok()) << index.error().to_string();
  std::mt19937 rng(11);
  for (int i = 0; i < 500; ++i) {
    const auto length = static_cast<std::uint32_t>(1 + rng() % 200);
    const auto at = static_cast<std::uint32_t>(rng() % (text.size() - length));
    const ByteView pattern(text.data() + at, length);
    const Match m = index->longest_match(pattern);
    ASSERT_EQ(m.length, length) << "pattern at " << at;
    ASSERT_TRUE(same_bytes(text, m.old_pos, pattern, m.length)) << "pattern at " << at;
  }
}

TEST(SuffixArrayTest, MatchesTheLongestPrefixThatOccurs) {
  const std::string text = "abcabdabcabe";
  HostResult<SuffixArray> index = SuffixArray::build(as_bytes_view(text.data(), text.size()));
  ASSERT_TRUE(index.ok());
  const std::string pattern = "abcabz";
  const Match m = index->longest_match(as_bytes_view(pattern.data(), pattern.size()));
  EXPECT_EQ(m.length, 5u);
  EXPECT_EQ(text.substr(m.old_pos, 5), "abcab");
  const std::string absent = "zzz";
  EXPECT_EQ(index->longest_match(as_bytes_view(absent.data(), absent.size())).length, 0u);
}

// The finding behind it: a suffix that runs into the end of the text and is a
// proper prefix of the pattern was compared as equal, so the binary search took
// the wrong half and a run of zeros matched 2 bytes of 69.
TEST(SuffixArrayTest, RegressionPatternInsideARunThatEndsTheText) {
  Bytes text = test_images::firmware_like(4096, 1);
  text.resize(text.size() + 4096, std::byte{0});
  HostResult<SuffixArray> index = SuffixArray::build(text);
  ASSERT_TRUE(index.ok());
  const Bytes zeros(300, std::byte{0});
  const Match m = index->longest_match(zeros);
  EXPECT_EQ(m.length, 300u);
  EXPECT_TRUE(same_bytes(text, m.old_pos, zeros, m.length));
}

// The covers' invariants, and that about `share` of the new image is covered.
void expect_sound_covers(const std::vector<Cover>& covers, const Bytes& old_image,
                         const Bytes& new_image, double share) {
  ASSERT_FALSE(covers.empty());
  std::uint64_t covered = 0;
  for (std::size_t i = 0; i < covers.size(); ++i) {
    const Cover& c = covers[i];
    ASSERT_GT(c.length, 0u);
    ASSERT_LE(c.new_pos + c.length, new_image.size()) << "cover " << i;
    ASSERT_LE(c.old_pos + c.length, old_image.size()) << "cover " << i;
    if (i > 0) {
      ASSERT_GE(c.new_pos, covers[i - 1].new_pos + covers[i - 1].length) << "cover " << i;
    }
    covered += c.length;
  }
  EXPECT_GT(static_cast<double>(covered), static_cast<double>(new_image.size()) * share);
}

TEST(CoverFinderTest, CoversAreOrderedDisjointAndInsideBothImages) {
  const Bytes old_image = test_images::firmware_like(64 * 1024, 3);
  Bytes new_image = test_images::insert_blocks(old_image, 12, 300, 4);
  new_image = test_images::spread_changes(std::move(new_image), 200, 900, 5);
  HostResult<SuffixArray> index = SuffixArray::build(old_image);
  ASSERT_TRUE(index.ok());
  // Only the inserted blocks are new: nearly everything else is covered.
  expect_sound_covers(find_covers(old_image, new_image, *index, {}), old_image, new_image, 0.9);
}

// The same over the sparse index, on a pair shaped like a filesystem: blocks
// moved, inserted and rewritten in place.
TEST(CoverFinderTest, AnchoredCoversAreOrderedDisjointAndInsideBothImages) {
  const Bytes old_image = test_images::firmware_like(2 * 1024 * 1024, 6);
  Bytes new_image = test_images::move_blocks(old_image, 8, 7);
  new_image = test_images::insert_blocks(std::move(new_image), 12, 4096, 8);
  new_image = test_images::spread_changes(std::move(new_image), 20, 4096, 9);
  const AnchorIndex index = AnchorIndex::build(old_image);
  expect_sound_covers(find_covers(old_image, new_image, index, {}), old_image, new_image, 0.9);
}

// A file rewritten in place in a filesystem image: the alignment continues on
// both sides of it, and its new bytes are left out of the covers (literals),
// not coded as differences from the unrelated bytes they replaced.
TEST(CoverFinderTest, AStretchRewrittenInPlaceIsLeftOutOfTheAnchoredCovers) {
  const Bytes old_image = test_images::random_bytes(4 * 1024 * 1024, 10);
  Bytes new_image = old_image;
  const std::size_t at = 1'500'000, length = 300'000;
  const Bytes rewritten = test_images::random_bytes(length, 11);
  std::copy(rewritten.begin(), rewritten.end(), new_image.begin() + at);
  const AnchorIndex index = AnchorIndex::build(old_image);
  const std::vector<Cover> covers = find_covers(old_image, new_image, index, {});
  std::uint64_t covered = 0, inside = 0;
  for (const Cover& c : covers) {
    EXPECT_EQ(c.old_pos, c.new_pos) << "one alignment, on both sides";
    covered += c.length;
    const std::size_t from = std::max<std::size_t>(c.new_pos, at);
    const std::size_t to = std::min<std::size_t>(c.new_pos + c.length, at + length);
    if (from < to) inside += to - from;
  }
  EXPECT_LT(inside, 64u) << "at most a few bytes that happen to agree";
  EXPECT_GT(covered, new_image.size() - length - 64);
}

// Regression (findings 2026-12-01, ext4 images: a 64 MB pair ran 26 min): an old
// run of zeros broken by a few bytes, against a clean run in the new image. The
// current alignment gets all but one byte of each long match, so the scan never
// switches; stepping one byte at a time searched the run once per byte. Here
// that was about 16,000 searches of up to 8 KiB each; the scan now makes about
// as many searches as the random head has bytes, and still covers the run.
// The covers of `new_image` over `old_image`, and how many suffix-array searches
// the finder made for them.
std::vector<Cover> covers_counting(const Bytes& old_image, const Bytes& new_image,
                                   std::uint64_t& searches) {
  HostResult<SuffixArray> index = SuffixArray::build(old_image);
  EXPECT_TRUE(index.ok());
  if (!index.ok()) return {};
  searches = 0;
  CoverOptions options;
  options.searches = &searches;
  return find_covers(old_image, new_image, *index, options);
}

// The same over the sparse index: every position is a search there (a cheap
// one unless it is an anchor), so the count bounds the scan's steps.
std::vector<Cover> anchored_covers_counting(const Bytes& old_image, const Bytes& new_image,
                                            std::uint64_t& searches) {
  const AnchorIndex index = AnchorIndex::build(old_image);
  searches = 0;
  CoverOptions options;
  options.searches = &searches;
  return find_covers(old_image, new_image, index, options);
}

TEST(CoverFinderTest, RegressionALongRunIsNotSearchedOncePerByte) {
  const Bytes head = test_images::random_bytes(4096, 41);
  Bytes old_image = head;
  old_image.resize(head.size() + 32 * 1024, std::byte{0});
  for (std::size_t k = 1; k <= 3; ++k) old_image[head.size() + k * 8 * 1024] = std::byte{0xFF};
  Bytes new_image = head;
  new_image.resize(old_image.size(), std::byte{0});
  for (const bool anchored : {false, true}) {
    std::uint64_t searches = 0;
    const std::vector<Cover> covers = anchored
                                          ? anchored_covers_counting(old_image, new_image, searches)
                                          : covers_counting(old_image, new_image, searches);
    EXPECT_LT(searches, head.size() + 1024) << (anchored ? "anchor index" : "suffix array");
    std::uint64_t covered = 0;
    for (const Cover& c : covers) covered += c.length;
    EXPECT_EQ(covered, new_image.size()) << "the run is covered, its three bytes as diffs";
  }
}

// Compressed or random content (a squashfs image, a new executable) has no
// match worth switching to at almost any position: those positions are passed
// over without a search of the index, yet the blocks it shares with the old
// image are still found whole.
TEST(CoverFinderTest, RandomContentIsNotSearchedAtEveryPosition) {
  const Bytes old_image = test_images::random_bytes(256 * 1024, 51);
  Bytes new_image = test_images::random_bytes(256 * 1024, 52);
  const std::size_t shared_at = 100 * 1024, shared_len = 8 * 1024;
  std::copy_n(old_image.begin() + 30 * 1024, shared_len, new_image.begin() + shared_at);
  std::uint64_t searches = 0;
  const std::vector<Cover> covers = covers_counting(old_image, new_image, searches);
  // One search per position was 262,144; false positives of the filter are ~5 %.
  EXPECT_LT(searches, new_image.size() / 8);
  bool found = false;
  for (const Cover& c : covers) {
    found |= c.new_pos <= shared_at && c.new_pos + c.length >= shared_at + shared_len &&
             c.old_pos + (shared_at - c.new_pos) == 30 * 1024;
  }
  EXPECT_TRUE(found) << "the shared block is one cover";
}

// --- the sparse index of rootfs-sized images ---

// Property: a long stretch cut from the text is found whole from some position
// in its first few spacings (an anchor), at its own place, and every match the
// index gives is real.
TEST(AnchorIndexTest, FindsEveryLongStretchCutFromTheText) {
  const Bytes text = test_images::random_bytes(2u << 20, 81);
  const AnchorIndex index = AnchorIndex::build(text);
  ASSERT_EQ(index.spacing(), 16u);
  std::mt19937 rng(82);
  for (int trial = 0; trial < 200; ++trial) {
    const auto at = static_cast<std::uint32_t>(rng() % (text.size() - 8192));
    const ByteView stretch = ByteView(text).subspan(at, 4096);
    bool found = false;
    int anchors = 0;
    for (std::uint32_t k = 0; k < 32 * index.spacing() && !found; ++k) {
      const Match m = index.longest_match(stretch.subspan(k));
      if (m.length == 0) continue;
      ++anchors;
      ASSERT_TRUE(same_bytes(text, m.old_pos, stretch.subspan(k), m.length));
      found = m.old_pos == at + k && m.length == stretch.size() - k;
    }
    EXPECT_TRUE(found) << "stretch at " << at;
    EXPECT_GT(anchors, 0);
  }
  // About one position in `spacing` is kept, at 6 bytes of table each.
  EXPECT_LT(index.memory_bytes(), text.size() / index.spacing() * 6 + 8192);
}

TEST(AnchorIndexTest, PositionsThatAreNotAnchorsCostNothingAndFindNothing) {
  const Bytes text = test_images::random_bytes(1u << 20, 83);
  const AnchorIndex index = AnchorIndex::build(text);
  std::uint32_t matched = 0;
  for (std::uint32_t at = 0; at < 64 * 1024; ++at) {
    matched += index.longest_match(ByteView(text).subspan(at, 256)).length != 0;
  }
  // Every position is in the text, but only the anchors (1 in 16) answer.
  EXPECT_GT(matched, 64u * 1024 / 16 / 2);
  EXPECT_LT(matched, 64u * 1024 / 16 * 2);
  EXPECT_EQ(index.longest_match(ByteView(text).subspan(0, AnchorIndex::kWindow - 1)).length, 0u);
}

// Zeroed blocks hash alike at every position: the index keeps the longest run
// of each byte value, so a run in the new image finds the longest old one.
TEST(AnchorIndexTest, ARunFindsTheLongestOldRunOfItsByte) {
  Bytes text = test_images::random_bytes(256 * 1024, 84);
  std::fill_n(text.begin() + 1000, 300, std::byte{0});
  std::fill_n(text.begin() + 50'000, 100'000, std::byte{0});
  std::fill_n(text.begin() + 200'000, 5000, std::byte{0xFF});
  const AnchorIndex index = AnchorIndex::build(text);
  Bytes pattern(60'000, std::byte{0});
  Match m = index.longest_match(pattern);
  EXPECT_EQ(m.old_pos, 50'000u);
  EXPECT_EQ(m.length, pattern.size());
  pattern.assign(9000, std::byte{0xFF});
  m = index.longest_match(pattern);
  EXPECT_EQ(m.old_pos, 200'000u);
  EXPECT_EQ(m.length, 5000u);
  pattern.assign(100, std::byte{0x5A});  // no such run in the text
  EXPECT_EQ(index.longest_match(pattern).length, 0u);
}

// Repeated content (the same block in many files) keeps a few copies, not all:
// the table stays shallow, and a match is still found.
TEST(AnchorIndexTest, RepeatedBlocksKeepTheTableShallow) {
  const Bytes block = test_images::random_bytes(4096, 85);
  Bytes text;
  for (int k = 0; k < 512; ++k) text.insert(text.end(), block.begin(), block.end());
  const AnchorIndex index = AnchorIndex::build(text);
  std::uint32_t found = 0;
  for (std::uint32_t at = 0; at < block.size(); ++at) {
    const Match m = index.longest_match(ByteView(block).subspan(at));
    if (m.length == 0) continue;
    ASSERT_TRUE(same_bytes(text, m.old_pos, ByteView(block).subspan(at), m.length));
    EXPECT_EQ(m.length, block.size() - at);
    ++found;
  }
  EXPECT_GT(found, 0u);
}

struct Edit {
  const char* name;
  Bytes (*make)(const Bytes&);
};

const Edit kEdits[] = {
    {"identical", [](const Bytes& b) { return b; }},
    {"inserted", [](const Bytes& b) { return test_images::insert_blocks(b, 8, 500, 21); }},
    {"deleted", [](const Bytes& b) { return test_images::delete_blocks(b, 8, 500, 22); }},
    {"moved", [](const Bytes& b) { return test_images::move_blocks(b, 6, 23); }},
    {"scattered", [](const Bytes& b) { return test_images::spread_changes(b, 50, 400, 24); }},
    {"relocated",
     [](const Bytes& b) { return test_images::relocate_pointers(b, 1024, b.size() / 2, 0x40); }},
    {"unrelated", [](const Bytes& b) { return test_images::random_bytes(b.size(), 25); }},
    {"empty", [](const Bytes&) { return Bytes{}; }},
};

// Property: every edit, every profile, applies back to exactly the new image.
TEST(MakePatchTest, RoundTripsEveryEditAtEveryProfile) {
  const Bytes old_image = test_images::firmware_like(48 * 1024, 9);
  for (const Edit& edit : kEdits) {
    const Bytes new_image = edit.make(old_image);
    for (Profile profile : {Profile::kMcuTiny, Profile::kMcu, Profile::kLinux}) {
      DiffOptions options;
      options.profile = profile;
      DiffStats stats;
      HostResult<std::vector<std::byte>> patch = make_patch(old_image, new_image, options, &stats);
      ASSERT_TRUE(patch.ok()) << edit.name << ": " << patch.error().to_string();
      HostResult<std::vector<std::byte>> rebuilt = apply_patch(old_image, *patch);
      ASSERT_TRUE(rebuilt.ok()) << edit.name << ": " << rebuilt.error().to_string();
      ASSERT_EQ(*rebuilt, new_image) << edit.name << " at profile " << static_cast<int>(profile);
      EXPECT_EQ(stats.copied_bytes + stats.literal_bytes, new_image.size()) << edit.name;
    }
  }
}

TEST(MakePatchTest, AnIdenticalImageCostsLittleMoreThanTheHeader) {
  const Bytes image = test_images::firmware_like(256 * 1024, 12);
  HostResult<std::vector<std::byte>> patch = make_patch(image, image, {});
  ASSERT_TRUE(patch.ok());
  EXPECT_LT(patch->size(), 512u);
}

TEST(MakePatchTest, ASmallChangeMakesASmallPatch) {
  const Bytes old_image = test_images::firmware_like(256 * 1024, 13);
  const Bytes new_image = test_images::spread_changes(old_image, 8000, 12000, 14);
  HostResult<std::vector<std::byte>> patch = make_patch(old_image, new_image, {});
  ASSERT_TRUE(patch.ok());
  EXPECT_LT(patch->size(), new_image.size() / 20);
}

TEST(MakePatchTest, ReportsProgressThroughEveryStage) {
  const Bytes old_image = test_images::firmware_like(64 * 1024, 15);
  const Bytes new_image = test_images::insert_blocks(old_image, 4, 200, 16);
  std::set<std::string> stages;
  DiffOptions options;
  options.progress = [&](const char* stage, std::uint64_t done, std::uint64_t total) {
    EXPECT_LE(done, total) << stage;
    stages.insert(stage);
  };
  ASSERT_TRUE(make_patch(old_image, new_image, options).ok());
  EXPECT_EQ(stages, (std::set<std::string>{"index", "match", "encode"}));
}

TEST(MakePatchTest, ACancelStopsTheDiffAtItsNextSlice) {
  // A server shutting down sets the flag mid-build: the diff must stop within a
  // slice (64 KiB of matching), not run on to the end of a rootfs image.
  const Bytes old_image = test_images::firmware_like(1024 * 1024, 17);
  const Bytes new_image = test_images::spread_changes(old_image, 500, 9000, 18);
  std::atomic<bool> cancel{false};
  std::vector<std::uint64_t> match_reports;
  std::size_t reports_when_set = 0;
  std::set<std::string> stages;
  DiffOptions options;
  options.cancel = &cancel;
  options.progress = [&](const char* stage, std::uint64_t done, std::uint64_t) {
    stages.insert(stage);
    if (std::string(stage) != "match") return;
    match_reports.push_back(done);
    if (done >= 256 * 1024 && !cancel) {
      cancel = true;
      reports_when_set = match_reports.size();
    }
  };
  HostResult<std::vector<std::byte>> patch = make_patch(old_image, new_image, options);
  ASSERT_FALSE(patch.ok());
  EXPECT_EQ(patch.error().code, ErrorCode::kCanceled);
  EXPECT_EQ(stages.count("encode"), 0u);
  // A report comes every 64 KiB of scan; the one that set the flag was the last,
  // well before the end of the image.
  ASSERT_NE(reports_when_set, 0u);
  EXPECT_EQ(match_reports.size(), reports_when_set);
  EXPECT_LT(match_reports.back(), new_image.size() / 2);

  // Set before the start, nothing past the index is done.
  stages.clear();
  HostResult<std::vector<std::byte>> again = make_patch(old_image, new_image, options);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kCanceled);
  EXPECT_EQ(stages, (std::set<std::string>{"index"}));
}

// Past 8 MiB (a rootfs, not firmware) the ways to code are ranked on less of each
// frame, one is coded in full, and its frames on all cores: the patch must still
// rebuild the image exactly, and be the same bytes at every run.
TEST(MakePatchTest, ARootfsSizedPairRoundTripsWithItsFramesCodedInParallel) {
  const Bytes old_image = test_images::firmware_like(9 * 1024 * 1024 + 123, 71);
  const Bytes new_image = test_images::insert_blocks(
      test_images::spread_changes(old_image, 400, 20000, 72), 6, 3000, 73);
  DiffOptions options;
  options.profile = Profile::kLinux;
  HostResult<std::vector<std::byte>> patch = make_patch(old_image, new_image, options);
  ASSERT_TRUE(patch.ok()) << patch.error().to_string();
  HostResult<Bytes> rebuilt = apply_patch(old_image, *patch);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().to_string();
  EXPECT_TRUE(*rebuilt == new_image);
  EXPECT_LT(patch->size(), new_image.size() / 10);
  HostResult<std::vector<std::byte>> again = make_patch(old_image, new_image, options);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again == *patch);
}

// A caller that mapped the new image is told which stretches it may let go: each
// lies in the image, and by the end every byte has been let go at least once.
TEST(MakePatchTest, ARootfsSizedDiffLetsGoOfTheWholeNewImageAsItPasses) {
  const Bytes old_image = test_images::firmware_like(12 * 1024 * 1024, 74);
  const Bytes new_image = test_images::spread_changes(old_image, 200, 20000, 75);
  DiffOptions options;
  std::vector<bool> released((new_image.size() + 4095) / 4096);
  bool outside = false;
  std::mutex mutex;
  options.release_new = [&](ByteView range) {
    const std::lock_guard<std::mutex> lock(mutex);
    const std::byte* begin = new_image.data();
    if (range.data() < begin || range.data() + range.size() > begin + new_image.size()) {
      outside = true;
      return;
    }
    const auto from = static_cast<std::size_t>(range.data() - begin);
    for (std::size_t page = from / 4096; page < (from + range.size() + 4095) / 4096; ++page) {
      released[page] = true;
    }
  };
  HostResult<std::vector<std::byte>> patch = make_patch(old_image, new_image, options);
  ASSERT_TRUE(patch.ok()) << patch.error().to_string();
  EXPECT_FALSE(outside);
  EXPECT_EQ(std::count(released.begin(), released.end(), false), 0);
  HostResult<Bytes> rebuilt = apply_patch(old_image, *patch);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_TRUE(*rebuilt == new_image);
}

TEST(MakePatchTest, TheSameInputsGiveTheSameBytesWhateverTheThreadsDo) {
  // The ways to code a patch are tried on several threads; the one kept must not
  // depend on which finishes first. A Cortex-M pair brings relocation prediction in.
  const Bytes old_image = test_images::thumb2_image(0x08000000, 700, 3);
  const Bytes new_image = test_images::thumb2_image(0x08000000, 700, 3, 350, 20);
  for (const Profile profile : {Profile::kMcuTiny, Profile::kMcu, Profile::kLinux}) {
    DiffOptions options;
    options.profile = profile;
    DiffStats stats;
    HostResult<std::vector<std::byte>> first = make_patch(old_image, new_image, options, &stats);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(stats.arch, Arch::kThumb2);
    EXPECT_GT(stats.shapes_tried, 2u);
    for (int run = 0; run < 4; ++run) {
      HostResult<std::vector<std::byte>> again = make_patch(old_image, new_image, options);
      ASSERT_TRUE(again.ok());
      ASSERT_TRUE(*again == *first) << "profile " << static_cast<int>(profile) << ", run " << run;
    }
  }
}

// --- segmented patches (Intel HEX, ELF) ---

// A Cortex-M layout in three regions: vectors, .text and .rodata.
FirmwareImage three_region_image(std::uint32_t seed) {
  return {FirmwareFormat::kElf,
          {{0x08000000u, test_images::firmware_like(0x200, seed)},
           {0x08004000u, test_images::firmware_like(40 * 1024, seed + 1)},
           {0x08040000u, test_images::firmware_like(8 * 1024, seed + 2)}}};
}

TEST(SegmentedPatchTest, RebuildsEverySegmentAtItsAddress) {
  const FirmwareImage old_image = three_region_image(3);
  FirmwareImage new_image = old_image;
  new_image.format = FirmwareFormat::kIntelHex;
  new_image.segments[1].bytes = test_images::insert_blocks(new_image.segments[1].bytes, 5, 300, 4);
  new_image.segments[2].bytes =
      test_images::spread_changes(new_image.segments[2].bytes, 200, 900, 5);
  new_image.segments.push_back({0x08060000u, test_images::firmware_like(2048, 6)});
  for (const char* profile : {"mcu-tiny", "linux"}) {
    DiffOptions options;
    options.profile = find_profile(profile)->profile;
    HostResult<Bytes> patch = make_segmented_patch(old_image, new_image, options);
    ASSERT_TRUE(patch.ok()) << patch.error().to_string();
    ASSERT_TRUE(is_layout_block(*patch));
    HostResult<FirmwareImage> rebuilt = apply_segmented_patch(old_image, *patch);
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().to_string();
    ASSERT_EQ(rebuilt->segments.size(), new_image.segments.size()) << profile;
    for (std::size_t i = 0; i < new_image.segments.size(); ++i) {
      EXPECT_EQ(rebuilt->segments[i].address, new_image.segments[i].address) << profile << " " << i;
      EXPECT_EQ(rebuilt->segments[i].bytes, new_image.segments[i].bytes) << profile << " " << i;
    }
    // The layout costs a few bytes, not a gap-filled image.
    EXPECT_LT(patch->size(), new_image.size() / 5) << profile;
  }
}

TEST(SegmentedPatchTest, RefusesAnOldImageWithAnotherLayout) {
  const FirmwareImage old_image = three_region_image(3);
  const FirmwareImage new_image = three_region_image(13);
  HostResult<Bytes> patch = make_segmented_patch(old_image, new_image, DiffOptions{});
  ASSERT_TRUE(patch.ok());

  FirmwareImage moved = old_image;
  moved.segments[1].address += 0x1000;
  HostResult<FirmwareImage> rebuilt = apply_segmented_patch(moved, *patch);
  ASSERT_FALSE(rebuilt.ok());
  EXPECT_EQ(rebuilt.error().code, ErrorCode::kPatchWrongBase);
  EXPECT_NE(rebuilt.error().message.find("segment 2 is 40960 bytes at 0x08005000"),
            std::string::npos)
      << rebuilt.error().message;

  // The same bytes as a raw binary: the addresses are unknown, so it is refused too.
  HostResult<FirmwareImage> raw = parse_firmware(old_image.linear());
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(apply_segmented_patch(*raw, *patch).error().code, ErrorCode::kPatchWrongBase);
  // The plain entry point names what it got.
  HostResult<Bytes> plain = apply_patch(old_image.linear(), *patch);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().code, ErrorCode::kPatchBadMagic);
  EXPECT_NE(plain.error().message.find("segmented patch"), std::string::npos);

  // A corrupt layout block is refused before anything is applied.
  Bytes corrupt = *patch;
  corrupt[9] ^= std::byte{0x10};
  EXPECT_EQ(apply_segmented_patch(old_image, corrupt).error().code, ErrorCode::kPatchCorrupt);
}

TEST(SegmentedPatchTest, ARawOldImageStandsInForOneSegmentAtAnyAddress) {
  const FirmwareImage old_image{FirmwareFormat::kElf,
                                {{0x08000000u, test_images::firmware_like(16 * 1024, 21)}}};
  FirmwareImage new_image = old_image;
  new_image.segments[0].bytes = test_images::insert_blocks(new_image.segments[0].bytes, 2, 100, 22);
  HostResult<Bytes> patch = make_segmented_patch(old_image, new_image, DiffOptions{});
  ASSERT_TRUE(patch.ok());
  HostResult<FirmwareImage> raw = parse_firmware(old_image.linear());
  ASSERT_TRUE(raw.ok());
  HostResult<FirmwareImage> rebuilt = apply_segmented_patch(*raw, *patch);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().to_string();
  ASSERT_EQ(rebuilt->segments.size(), 1u);
  EXPECT_EQ(rebuilt->segments[0].address, 0x08000000u);
  EXPECT_EQ(rebuilt->segments[0].bytes, new_image.segments[0].bytes);
}

TEST(SegmentedPatchTest, NeedsFormatVersion2) {
  DiffOptions options;
  options.format_version = 1;
  HostResult<Bytes> patch =
      make_segmented_patch(three_region_image(1), three_region_image(2), options);
  ASSERT_FALSE(patch.ok());
  EXPECT_EQ(patch.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace updraft::delta
