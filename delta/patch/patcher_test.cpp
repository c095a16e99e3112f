#include "delta/patch/patcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/codec.h"
#include "core/crc32.h"
#include "core/host/file.h"
#include "delta/diff/diff.h"
#include "delta/diff/relocation.h"
#include "delta/patch/host/apply.h"
#include "delta/testing/corpus.h"
#include "delta/testing/test_images.h"

namespace updraft::delta {

// Parameter names in test listings, rather than raw bytes.
static void PrintTo(Profile profile, std::ostream* os) { *os << profile_info(profile).name; }

namespace {

using Bytes = std::vector<std::byte>;
using namespace test_images;  // NOLINT: the generators are this file's vocabulary

constexpr Profile kProfiles[] = {Profile::kMcuTiny, Profile::kMcu, Profile::kLinux};
constexpr std::uint8_t kFlipMasks[] = {0x01, 0x80, 0xFF};

std::string name_of(Profile profile) {
  std::string name(profile_info(profile).name);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

std::uint32_t frame_size_of(Profile profile) { return profile_info(profile).params.frame_size; }

bool is_patch_error(ErrorCode code) {
  return error_number(code) >= 100 && error_number(code) < 200;
}

// Equality without gtest printing two whole images on failure.
testing::AssertionResult same_bytes(ByteView actual, ByteView expected) {
  if (actual.size() == expected.size() &&
      std::equal(actual.begin(), actual.end(), expected.begin())) {
    return testing::AssertionSuccess();
  }
  const auto diff = std::mismatch(actual.begin(), actual.end(), expected.begin(), expected.end());
  return testing::AssertionFailure()
         << "got " << actual.size() << " bytes, expected " << expected.size()
         << "; first difference at offset " << (diff.first - actual.begin());
}

// A new image of exactly `size` bytes, an edited version of a slightly larger old one.
void near_size_pair(std::size_t size, std::uint32_t seed, Bytes& old_image, Bytes& new_image) {
  old_image = firmware_like(size + 777, seed);
  new_image = insert_blocks(spread_changes(old_image, 900, 2000, seed + 1), 2, 300, seed + 2);
  new_image.resize(size);
}

struct PairRecipe {
  const char* name;
  void (*make)(Bytes& old_image, Bytes& new_image);
};

// Frame sizes come from the profile table, so these cases keep straddling the
// boundaries if the table changes.
const PairRecipe kRecipes[] = {
    {"identical", [](Bytes& o, Bytes& n) { o = n = firmware_like(40000, 1); }},
    {"insertions",
     [](Bytes& o, Bytes& n) {
       o = firmware_like(50000, 2);
       n = insert_blocks(o, 6, 3000, 3);
     }},
    {"deletions",
     [](Bytes& o, Bytes& n) {
       o = firmware_like(50000, 4);
       n = delete_blocks(o, 6, 3000, 5);
     }},
    {"moved_blocks",
     [](Bytes& o, Bytes& n) {
       o = firmware_like(60000, 6);
       n = move_blocks(o, 8, 7);
     }},
    {"unrelated_random",
     [](Bytes& o, Bytes& n) {
       o = random_bytes(20000, 8);
       n = random_bytes(24000, 9);
     }},
    {"empty_old",
     [](Bytes& o, Bytes& n) {
       o = {};
       n = firmware_like(9000, 10);
     }},
    {"empty_new",
     [](Bytes& o, Bytes& n) {
       o = firmware_like(9000, 11);
       n = {};
     }},
    {"both_empty", [](Bytes& o, Bytes& n) { o = n = {}; }},
    {"small_edit",
     [](Bytes& o, Bytes& n) {
       o = firmware_like(3000, 15);
       n = delete_blocks(insert_blocks(spread_changes(o, 200, 400, 16), 1, 40, 17), 1, 60, 18);
     }},
    {"small_literals",
     [](Bytes& o, Bytes& n) {
       o = firmware_like(500, 19);
       n = firmware_like(700, 20);
     }},
    {"small_changes_spread_over_three_mcu_tiny_frames",
     [](Bytes& o, Bytes& n) {
       o = firmware_like(frame_size_of(Profile::kMcuTiny) * 2 + 20000, 12);
       n = spread_changes(o, 200, 500, 13);
     }},
    {"pointer_relocation",
     [](Bytes& o, Bytes& n) {
       o = firmware_like(90000, 14);
       n = relocate_pointers(o, 4096, 61440, 0x1000);
     }},
    {"one_byte_short_of_mcu_tiny_frame",
     [](Bytes& o, Bytes& n) { near_size_pair(frame_size_of(Profile::kMcuTiny) - 1, 20, o, n); }},
    {"exactly_one_mcu_tiny_frame",
     [](Bytes& o, Bytes& n) { near_size_pair(frame_size_of(Profile::kMcuTiny), 23, o, n); }},
    {"one_byte_into_second_mcu_tiny_frame",
     [](Bytes& o, Bytes& n) { near_size_pair(frame_size_of(Profile::kMcuTiny) + 1, 26, o, n); }},
    {"four_mcu_tiny_frames_and_a_bit",
     [](Bytes& o, Bytes& n) {
       near_size_pair(frame_size_of(Profile::kMcuTiny) * 4 + 300, 29, o, n);
     }},
    {"one_byte_short_of_mcu_frame",
     [](Bytes& o, Bytes& n) { near_size_pair(frame_size_of(Profile::kMcu) - 1, 32, o, n); }},
    {"exactly_one_mcu_frame",
     [](Bytes& o, Bytes& n) { near_size_pair(frame_size_of(Profile::kMcu), 35, o, n); }},
    {"one_byte_into_second_mcu_frame",
     [](Bytes& o, Bytes& n) { near_size_pair(frame_size_of(Profile::kMcu) + 1, 38, o, n); }},
    {"one_byte_short_of_linux_frame",
     [](Bytes& o, Bytes& n) { near_size_pair(frame_size_of(Profile::kLinux) - 1, 41, o, n); }},
    {"exactly_one_linux_frame",
     [](Bytes& o, Bytes& n) { near_size_pair(frame_size_of(Profile::kLinux), 44, o, n); }},
    {"one_byte_into_second_linux_frame",
     [](Bytes& o, Bytes& n) { near_size_pair(frame_size_of(Profile::kLinux) + 1, 47, o, n); }},
};

const PairRecipe& recipe(std::string_view name) {
  for (const PairRecipe& r : kRecipes) {
    if (r.name == name) return r;
  }
  std::abort();
}

struct ImagePair {
  Bytes old_image;
  Bytes new_image;
};

ImagePair make_pair_from(const PairRecipe& r) {
  ImagePair pair;
  r.make(pair.old_image, pair.new_image);
  return pair;
}

// --- Running the patcher the way a device does.

// Holds the ImageWriter contract the way a flash slot would: each write continues
// exactly where the last ended, at a multiple of kOutputBufferBytes.
class CheckedWriter final : public ImageWriter {
 public:
  Result<void> write(std::uint32_t offset, ByteView data) override {
    if (offset != bytes_.size() || offset % kOutputBufferBytes != 0) {
      ADD_FAILURE() << "write at " << offset << " after " << bytes_.size() << " bytes";
      return ErrorCode::kIoError;
    }
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return {};
  }
  Bytes& bytes() { return bytes_; }

 private:
  Bytes bytes_;
};

PatchHeader header_of(ByteView patch) {
  if (patch.size() < kHeaderSize) return {};
  Result<PatchHeader> header =
      decode_header(std::span<const std::byte, kHeaderSize>(patch.data(), kHeaderSize));
  return header.ok() ? *header : PatchHeader{};
}

// Exactly the bytes the header asks for, on the heap, so ASan sees any overrun.
Bytes workspace_for(ByteView patch) {
  return Bytes(std::max<std::uint32_t>(header_of(patch).workspace_bytes, 1));
}

struct SavedCheckpoint {
  std::array<std::byte, Patcher::kCheckpointSize> bytes;
  std::uint32_t new_offset = 0;
  std::uint32_t patch_offset = 0;
};

struct Outcome {
  ErrorCode error = ErrorCode::kOk;  // from feed(), else from finish()
  Bytes output;                      // everything the writer received
  std::vector<SavedCheckpoint> checkpoints;
};

// Feeds patch[from..] in `chunk`-byte pieces to `patcher`, saving each checkpoint
// it reports, then finishes. Checks the feed() contract on the way.
Outcome run(Patcher& patcher, CheckedWriter& writer, ByteView patch, std::size_t chunk,
            std::size_t from = 0) {
  Outcome out;
  std::size_t pos = from;
  while (pos < patch.size() && out.error == ErrorCode::kOk) {
    const std::size_t n = std::min(chunk, patch.size() - pos);
    Result<Patcher::FeedResult> fed = patcher.feed(patch.subspan(pos, n));
    if (!fed.ok()) {
      out.error = fed.error();
      EXPECT_EQ(patcher.finish().error(), fed.error()) << "an error is final";
      break;
    }
    EXPECT_LE(fed->consumed, n);
    EXPECT_TRUE(fed->consumed == n || fed->checkpoint || fed->done || fed->seek)
        << "stopped early for no reason";
    if (fed->consumed == 0) {
      ADD_FAILURE() << "feed() took none of " << n << " bytes at patch offset " << pos;
      out.error = ErrorCode::kInternal;
      break;
    }
    pos += fed->consumed;
    EXPECT_EQ(patcher.patch_offset(), fed->seek ? patcher.checkpoint_patch_offset() : pos);
    // After a resume, a relocation block read again sends the feed on to the frame.
    if (fed->seek) pos = patcher.checkpoint_patch_offset();
    if (fed->checkpoint) {
      SavedCheckpoint cp;
      patcher.save_checkpoint(cp.bytes);
      cp.new_offset = patcher.new_offset();
      cp.patch_offset = patcher.checkpoint_patch_offset();
      EXPECT_EQ(cp.patch_offset, pos);
      out.checkpoints.push_back(cp);
    }
  }
  if (out.error == ErrorCode::kOk) {
    const Result<void> finished = patcher.finish();
    out.error = finished.ok() ? ErrorCode::kOk : finished.error();
    EXPECT_EQ(finished.ok(), patcher.done());
  }
  out.output = writer.bytes();
  return out;
}

// `workspace_of`: the patch whose header sizes the workspace, when `patch` itself
// is cut or corrupted.
Outcome apply(ByteView old_image, ByteView patch, std::size_t chunk, ByteView workspace_of = {}) {
  MemoryImageReader reader(old_image);
  CheckedWriter writer;
  Bytes workspace = workspace_for(workspace_of.empty() ? patch : workspace_of);
  Patcher patcher(reader, writer, workspace);
  return run(patcher, writer, patch, chunk);
}

// The patch, checked for what every patch promises: it states its profile and
// fits the RAM budget of that profile's devices.
void make(ByteView old_image, ByteView new_image, Profile profile, Bytes* patch) {
  DiffOptions options;
  options.profile = profile;
  HostResult<Bytes> made = make_patch(old_image, new_image, options);
  ASSERT_TRUE(made.ok()) << made.error().to_string();
  *patch = std::move(made).value();
  ASSERT_GE(patch->size(), kHeaderSize);
  Result<PatchHeader> header =
      decode_header(std::span<const std::byte, kHeaderSize>(patch->data(), kHeaderSize));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->profile, static_cast<std::uint8_t>(profile));
  EXPECT_EQ(header->new_size, new_image.size());
  EXPECT_LE(header->workspace_bytes, profile_info(profile).workspace_limit);
}

void expect_round_trip(ByteView old_image, ByteView new_image, ByteView patch,
                       std::initializer_list<std::size_t> chunks) {
  for (std::size_t chunk : chunks) {
    const Outcome outcome = apply(old_image, patch, chunk);
    ASSERT_EQ(outcome.error, ErrorCode::kOk)
        << "chunk " << chunk << ": " << describe(outcome.error);
    ASSERT_TRUE(same_bytes(outcome.output, new_image)) << "chunk " << chunk;
  }
}

// Resumes a fresh Patcher from every checkpoint of a run, as after a power cut
// right behind it, and checks the image it completes is exactly NEW.
void expect_resume_from_every_checkpoint(ByteView old_image, ByteView new_image, ByteView patch,
                                         std::size_t chunk) {
  const Outcome first = apply(old_image, patch, 4096);
  ASSERT_EQ(first.error, ErrorCode::kOk);
  const PatchHeader header = header_of(patch);
  // One after the header, one after every frame but the last.
  ASSERT_EQ(first.checkpoints.size(), header.frame_count());
  for (std::size_t i = 0; i < first.checkpoints.size(); ++i) {
    const SavedCheckpoint& cp = first.checkpoints[i];
    SCOPED_TRACE("checkpoint " + std::to_string(i));
    MemoryImageReader reader(old_image);
    CheckedWriter writer;
    Bytes workspace = workspace_for(patch);
    Patcher patcher(reader, writer, workspace);
    const Result<void> resumed = patcher.resume(cp.bytes);
    ASSERT_TRUE(resumed.ok()) << describe(resumed.error());
    ASSERT_EQ(patcher.new_offset(), std::uint64_t{header.params.frame_size} * i);
    ASSERT_EQ(patcher.new_offset(), cp.new_offset);
    // With relocation prediction the map is read again first, from the block.
    ASSERT_EQ(patcher.checkpoint_patch_offset(),
              header.reloc_count > 0 ? kHeaderSize : cp.patch_offset);
    writer.bytes().assign(new_image.begin(), new_image.begin() + patcher.new_offset());
    const Outcome rest = run(patcher, writer, patch, chunk, patcher.checkpoint_patch_offset());
    ASSERT_EQ(rest.error, ErrorCode::kOk) << describe(rest.error);
    ASSERT_TRUE(same_bytes(rest.output, new_image));
    // A resumed run journals exactly what the uninterrupted one did.
    ASSERT_EQ(rest.checkpoints.size(), first.checkpoints.size() - i - 1);
    for (std::size_t k = 0; k < rest.checkpoints.size(); ++k) {
      EXPECT_EQ(rest.checkpoints[k].bytes, first.checkpoints[i + 1 + k].bytes)
          << "checkpoint " << i + 1 + k;
    }
  }
}

// Feeds every prefix of `patch` (or every `stride`-th one, plus those around each
// checkpoint) and checks none is taken for a whole patch.
void expect_every_prefix_rejected(ByteView old_image, ByteView patch, std::size_t stride = 1) {
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n < patch.size(); n += stride) lengths.push_back(n);
  if (stride > 1) {
    for (const SavedCheckpoint& cp : apply(old_image, patch, 4096).checkpoints) {
      for (std::size_t n : {cp.patch_offset - 1, cp.patch_offset, cp.patch_offset + 1})
        lengths.push_back(n);
    }
    lengths.push_back(patch.size() - 1);
  }
  for (std::size_t n : lengths) {
    if (n >= patch.size()) continue;
    for (std::size_t chunk : {std::size_t{7}, patch.size()}) {
      const Outcome outcome = apply(old_image, patch.first(n), chunk, patch);
      ASSERT_EQ(outcome.error, ErrorCode::kPatchTruncated)
          << "cut at " << n << " of " << patch.size();
      ASSERT_LT(outcome.output.size(), std::max<std::size_t>(header_of(patch).new_size, 1));
    }
  }
}

// Flips bytes at `positions` with a few masks: each result is a 1xx error, or —
// only possible if the flip did not matter — exactly NEW.
void expect_corruption_caught(ByteView old_image, ByteView new_image, ByteView patch,
                              const std::vector<std::size_t>& positions) {
  Bytes bad(patch.begin(), patch.end());
  for (std::size_t at : positions) {
    for (std::uint8_t mask : kFlipMasks) {
      bad[at] ^= std::byte{mask};
      const Outcome outcome = apply(old_image, bad, 4096, patch);
      bad[at] ^= std::byte{mask};
      if (outcome.error == ErrorCode::kOk) {
        ASSERT_TRUE(same_bytes(outcome.output, new_image)) << "byte " << at << " ^ " << int{mask};
      } else {
        ASSERT_TRUE(is_patch_error(outcome.error))
            << "byte " << at << " ^ " << int{mask} << ": " << describe(outcome.error);
        ASSERT_LE(outcome.output.size(), new_image.size());
      }
    }
  }
}

// `patch` with its header CRC and each frame's payload CRC made to match, as a
// corruption before the CRCs were computed (or a collision) would leave it.
Bytes with_crcs_repaired(Bytes patch) {
  if (patch.size() < kHeaderSize) return patch;
  store_le32(patch.data() + kHeaderSize - 4, crc32(ByteView(patch.data(), kHeaderSize - 4)));
  for (std::size_t at = kHeaderSize; at + kFrameHeaderSize <= patch.size();) {
    const std::size_t payload =
        std::min<std::size_t>(load_le32(patch.data() + at), patch.size() - at - kFrameHeaderSize);
    store_le32(patch.data() + at + 4,
               crc32(ByteView(patch.data() + at + kFrameHeaderSize, payload)));
    at += kFrameHeaderSize + payload;
  }
  return patch;
}

// --- The corpus of real firmware pairs.

struct CorpusPair {
  std::string name;
  Bytes old_image;
  Bytes new_image;
};

// The corpus is what proves the engine on real firmware; without one (a clone of
// the repository alone) these tests are reported skipped, never passed. At most
// `max_pairs`, spread evenly over the set, keep the sanitizer run short; the
// bench (bench/delta_bench.py) covers every pair.
void load_corpus(std::string_view set, std::size_t max_pairs, std::vector<CorpusPair>* pairs) {
  const std::optional<std::string> found = test_images::corpus_dir(set);
  if (!found) GTEST_SKIP() << test_images::corpus_missing_reason(set);
  const std::string dir = *found;
  std::ifstream tsv(dir + "/pairs.tsv");
  ASSERT_TRUE(tsv) << dir << "/pairs.tsv";
  std::string line;
  std::getline(tsv, line);
  auto split = [](const std::string& text) {
    std::vector<std::string> fields;
    std::stringstream in(text);
    for (std::string field; std::getline(in, field, '\t');) fields.push_back(field);
    return fields;
  };
  const std::vector<std::string> columns = split(line);
  auto column = [&](const char* name) {
    return static_cast<std::size_t>(std::find(columns.begin(), columns.end(), name) -
                                    columns.begin());
  };
  const std::size_t name_col = column("name"), old_col = column("old_file"),
                    new_col = column("new_file");
  ASSERT_LT(std::max({name_col, old_col, new_col}), columns.size()) << "pairs.tsv header: " << line;
  std::vector<std::string> lines;
  while (std::getline(tsv, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  const std::size_t step = std::max<std::size_t>(1, (lines.size() + max_pairs - 1) / max_pairs);
  for (std::size_t l = 0; l < lines.size(); l += step) {
    line = lines[l];
    const std::vector<std::string> fields = split(line);
    ASSERT_LT(std::max({name_col, old_col, new_col}), fields.size()) << line;
    HostResult<Bytes> old_image = read_file(dir + "/" + fields[old_col]);
    HostResult<Bytes> new_image = read_file(dir + "/" + fields[new_col]);
    ASSERT_TRUE(old_image.ok()) << old_image.error().to_string();
    ASSERT_TRUE(new_image.ok()) << new_image.error().to_string();
    pairs->push_back(
        {fields[name_col], std::move(old_image).value(), std::move(new_image).value()});
  }
  ASSERT_FALSE(pairs->empty()) << "pairs.tsv lists no pairs";
}

// Patches are made on first use: diffing is most of these tests' time under
// ASan, and the cut and corruption tests need only the first pair.
class CorpusTest : public testing::TestWithParam<std::tuple<std::string_view, Profile>> {
 protected:
  static constexpr std::size_t kMaxPairs = 8;

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(load_corpus(std::get<0>(GetParam()), kMaxPairs, &pairs_));
  }

  const Bytes& patch(std::size_t i) {
    patches_.resize(pairs_.size());
    if (patches_[i].empty())
      make(pairs_[i].old_image, pairs_[i].new_image, std::get<1>(GetParam()), &patches_[i]);
    return patches_[i];
  }

  std::vector<CorpusPair> pairs_;
  std::vector<Bytes> patches_;
};

TEST_P(CorpusTest, RoundTripsEveryPairAtChunkSizes1_7_4096) {
  for (std::size_t i = 0; i < pairs_.size(); ++i) {
    SCOPED_TRACE(pairs_[i].name);
    ASSERT_NO_FATAL_FAILURE(patch(i));
    ASSERT_NO_FATAL_FAILURE(
        expect_round_trip(pairs_[i].old_image, pairs_[i].new_image, patch(i), {1, 7, 4096}));
  }
}

TEST_P(CorpusTest, ResumesFromEveryCheckpoint) {
  for (std::size_t i = 0; i < pairs_.size(); ++i) {
    SCOPED_TRACE(pairs_[i].name);
    ASSERT_NO_FATAL_FAILURE(patch(i));
    ASSERT_NO_FATAL_FAILURE(
        expect_resume_from_every_checkpoint(pairs_[i].old_image, pairs_[i].new_image, patch(i), 7));
  }
}

TEST_P(CorpusTest, RejectsPatchCutAtAnyLength) {
  ASSERT_NO_FATAL_FAILURE(patch(0));
  ASSERT_NO_FATAL_FAILURE(expect_every_prefix_rejected(pairs_[0].old_image, patch(0), 4099));
}

TEST_P(CorpusTest, NeverAcceptsACorruptedByte) {
  ASSERT_NO_FATAL_FAILURE(patch(0));
  // The header and first frame header densely, then a sample of the payloads.
  std::vector<std::size_t> positions;
  for (std::size_t at = 0; at < kHeaderSize + kFrameHeaderSize; at += 3) positions.push_back(at);
  std::mt19937 rng(99);
  for (int i = 0; i < 40; ++i) positions.push_back(rng() % patch(0).size());
  positions.push_back(patch(0).size() - 1);
  expect_corruption_caught(pairs_[0].old_image, pairs_[0].new_image, patch(0), positions);
}

INSTANTIATE_TEST_SUITE_P(
    AllProfiles, CorpusTest,
    testing::Combine(testing::ValuesIn(test_images::kCorpusSets), testing::ValuesIn(kProfiles)),
    [](const testing::TestParamInfo<std::tuple<std::string_view, Profile>>& p) {
      std::string set(std::get<0>(p.param));
      std::replace(set.begin(), set.end(), '-', '_');
      return set + "_" + name_of(std::get<1>(p.param));
    });

// --- Generated pairs.

class GeneratedPairTest : public testing::TestWithParam<std::tuple<const char*, Profile>> {
 protected:
  void SetUp() override {
    pair_ = make_pair_from(recipe(std::get<0>(GetParam())));
    ASSERT_NO_FATAL_FAILURE(
        make(pair_.old_image, pair_.new_image, std::get<1>(GetParam()), &patch_));
  }

  ImagePair pair_;
  Bytes patch_;
};

TEST_P(GeneratedPairTest, RoundTripsAtChunkSizes1_7_4096) {
  expect_round_trip(pair_.old_image, pair_.new_image, patch_, {1, 7, 4096});
}

TEST_P(GeneratedPairTest, ResumesFromEveryCheckpoint) {
  expect_resume_from_every_checkpoint(pair_.old_image, pair_.new_image, patch_, 7);
}

std::vector<const char*> recipe_names() {
  std::vector<const char*> names;
  for (const PairRecipe& r : kRecipes) names.push_back(r.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(AllProfiles, GeneratedPairTest,
                         testing::Combine(testing::ValuesIn(recipe_names()),
                                          testing::ValuesIn(kProfiles)),
                         [](const testing::TestParamInfo<std::tuple<const char*, Profile>>& p) {
                           return std::string(std::get<0>(p.param)) + "_" +
                                  name_of(std::get<1>(p.param));
                         });

// --- Small patches, checked at every byte.

struct SmallCase {
  const char* recipe;
  Profile profile;
};

void PrintTo(const SmallCase& c, std::ostream* os) {
  *os << c.recipe << " at " << profile_info(c.profile).name;
}

// Header only; copies, diffs and literals; literals only; two mcu-tiny frames.
const SmallCase kSmallCases[] = {
    {"empty_new", Profile::kMcuTiny},
    {"small_edit", Profile::kMcu},
    {"small_literals", Profile::kLinux},
    {"one_byte_into_second_mcu_tiny_frame", Profile::kMcuTiny},
};

class SmallPatchTest : public testing::TestWithParam<SmallCase> {
 protected:
  void SetUp() override {
    pair_ = make_pair_from(recipe(GetParam().recipe));
    ASSERT_NO_FATAL_FAILURE(make(pair_.old_image, pair_.new_image, GetParam().profile, &patch_));
  }

  ImagePair pair_;
  Bytes patch_;
};

TEST_P(SmallPatchTest, RejectsPatchCutAtAnyLength) {
  expect_every_prefix_rejected(pair_.old_image, patch_);
}

TEST_P(SmallPatchTest, NeverAcceptsACorruptedByte) {
  std::vector<std::size_t> positions(patch_.size());
  for (std::size_t i = 0; i < positions.size(); ++i) positions[i] = i;
  expect_corruption_caught(pair_.old_image, pair_.new_image, patch_, positions);
}

// The CRCs catch every corruption above; this one gets past them, so only the
// decoder's bounds and the final SHA-256 stand between it and a wrong image.
// (Most flips end at the op bounds; RejectsImageThatDoesNotMatchTheHeaderHash
// reaches the SHA-256 check for certain.)
TEST_P(SmallPatchTest, NeverAcceptsAWrongImageBehindValidChecksums) {
  for (std::size_t at = kHeaderSize; at < patch_.size(); ++at) {
    for (std::uint8_t mask : kFlipMasks) {
      Bytes bad = patch_;
      bad[at] ^= std::byte{mask};
      const Outcome outcome = apply(pair_.old_image, with_crcs_repaired(bad), 4096, patch_);
      if (outcome.error == ErrorCode::kOk) {
        ASSERT_TRUE(same_bytes(outcome.output, pair_.new_image))
            << "byte " << at << " ^ " << int{mask};
      } else {
        ASSERT_TRUE(is_patch_error(outcome.error))
            << "byte " << at << ": " << describe(outcome.error);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, SmallPatchTest, testing::ValuesIn(kSmallCases),
                         [](const testing::TestParamInfo<SmallCase>& p) {
                           return std::string(p.param.recipe) + "_" + name_of(p.param.profile);
                         });

// --- Checkpoints that cannot be trusted.

class CheckpointTest : public testing::Test {
 protected:
  void SetUp() override {
    pair_ = make_pair_from(recipe("four_mcu_tiny_frames_and_a_bit"));
    ASSERT_NO_FATAL_FAILURE(make(pair_.old_image, pair_.new_image, Profile::kMcuTiny, &patch_));
    checkpoints_ = apply(pair_.old_image, patch_, 4096).checkpoints;
    ASSERT_GE(checkpoints_.size(), 3u);
  }

  // Resumes from `cp` and feeds the rest of the patch; the first error, or ok.
  Outcome resume_and_run(ByteView old_image,
                         const std::array<std::byte, Patcher::kCheckpointSize>& cp) {
    MemoryImageReader reader(old_image);
    CheckedWriter writer;
    Bytes workspace = workspace_for(patch_);
    Patcher patcher(reader, writer, workspace);
    const Result<void> resumed = patcher.resume(cp);
    if (!resumed.ok()) {
      EXPECT_EQ(patcher.finish().error(), resumed.error()) << "a failed resume is final";
      return Outcome{resumed.error(), {}, {}};
    }
    writer.bytes().assign(pair_.new_image.begin(),
                          pair_.new_image.begin() +
                              std::min<std::size_t>(patcher.new_offset(), pair_.new_image.size()));
    return run(patcher, writer, patch_, 4096,
               std::min<std::size_t>(patcher.checkpoint_patch_offset(), patch_.size()));
  }

  ImagePair pair_;
  Bytes patch_;
  std::vector<SavedCheckpoint> checkpoints_;
};

TEST_F(CheckpointTest, RejectsCheckpointWithAnyByteFlipped) {
  constexpr std::size_t kHeaderBegin = 8, kHeaderEnd = 8 + kHeaderSize;
  for (const SavedCheckpoint& saved : {checkpoints_.front(), checkpoints_[2]}) {
    for (std::size_t at = 0; at < Patcher::kCheckpointSize; ++at) {
      for (std::uint8_t mask : kFlipMasks) {
        std::array<std::byte, Patcher::kCheckpointSize> cp = saved.bytes;
        cp[at] ^= std::byte{mask};
        const Outcome outcome = resume_and_run(pair_.old_image, cp);
        ASSERT_NE(outcome.error, ErrorCode::kOk) << "byte " << at << " ^ " << int{mask};
        if (at >= kHeaderBegin && at < kHeaderEnd) {
          ASSERT_TRUE(is_patch_error(outcome.error))
              << "byte " << at << ": " << describe(outcome.error);
        } else {
          ASSERT_EQ(outcome.error, ErrorCode::kPatchBadCheckpoint)
              << "byte " << at << " ^ " << int{mask};
        }
      }
    }
  }
}

// A journal written by buggy code can carry a valid CRC over wrong fields. Each
// field forged this way must still end in an error, never a wrong image reported good.
TEST_F(CheckpointTest, NeverYieldsAWrongImageFromAForgedCheckpointWithValidCrc) {
  constexpr std::size_t kFields =
      8 + kHeaderSize;  // next_frame, patch_offset, old_pos, sha256 state
  for (std::size_t at = kFields; at < Patcher::kCheckpointSize - 4; ++at) {
    for (std::uint8_t mask : kFlipMasks) {
      std::array<std::byte, Patcher::kCheckpointSize> cp = checkpoints_[2].bytes;
      cp[at] ^= std::byte{mask};
      store_le32(cp.data() + Patcher::kCheckpointSize - 4,
                 crc32(ByteView(cp.data(), Patcher::kCheckpointSize - 4)));
      const Outcome outcome = resume_and_run(pair_.old_image, cp);
      if (outcome.error == ErrorCode::kOk) {
        ASSERT_TRUE(same_bytes(outcome.output, pair_.new_image))
            << "byte " << at << " ^ " << int{mask};
      } else {
        ASSERT_TRUE(is_patch_error(outcome.error))
            << "byte " << at << ": " << describe(outcome.error);
      }
    }
  }
}

TEST_F(CheckpointTest, ResumeRefusesAnotherBaseImage) {
  Bytes other = pair_.old_image;
  other[other.size() / 2] ^= std::byte{1};
  const Outcome outcome = resume_and_run(other, checkpoints_[1].bytes);
  EXPECT_EQ(outcome.error, ErrorCode::kPatchWrongBase);
}

// --- Refusals.

TEST(PatcherTest, RefusesAnotherBaseImageBeforeWritingAnything) {
  const ImagePair pair = make_pair_from(recipe("insertions"));
  for (Profile profile : kProfiles) {
    SCOPED_TRACE(name_of(profile));
    Bytes patch;
    ASSERT_NO_FATAL_FAILURE(make(pair.old_image, pair.new_image, profile, &patch));
    Bytes one_byte_changed = pair.old_image;
    one_byte_changed[1234] ^= std::byte{0x40};
    Bytes one_byte_longer = pair.old_image;
    one_byte_longer.push_back(std::byte{0});
    const Bytes one_byte_shorter(pair.old_image.begin(), pair.old_image.end() - 1);
    const std::vector<const Bytes*> others = {&one_byte_changed, &one_byte_longer,
                                              &one_byte_shorter, &pair.new_image};
    for (const Bytes* other : others) {
      for (std::size_t chunk : {std::size_t{1}, patch.size()}) {
        const Outcome outcome = apply(*other, patch, chunk);
        EXPECT_EQ(outcome.error, ErrorCode::kPatchWrongBase);
        EXPECT_EQ(error_number(outcome.error), 103);
        EXPECT_TRUE(outcome.output.empty()) << outcome.output.size() << " bytes written";
      }
    }
  }
}

TEST(PatcherTest, RejectsImageThatDoesNotMatchTheHeaderHash) {
  const ImagePair pair = make_pair_from(recipe("small_changes_spread_over_three_mcu_tiny_frames"));
  for (Profile profile : kProfiles) {
    SCOPED_TRACE(name_of(profile));
    Bytes patch;
    ASSERT_NO_FATAL_FAILURE(make(pair.old_image, pair.new_image, profile, &patch));
    patch[60] ^= std::byte{1};  // the first byte of new_sha256
    patch = with_crcs_repaired(patch);
    for (std::size_t chunk : {std::size_t{7}, patch.size()}) {
      const Outcome outcome = apply(pair.old_image, patch, chunk);
      EXPECT_EQ(outcome.error, ErrorCode::kPatchOutputMismatch) << describe(outcome.error);
    }
  }
}

// updraft patch streams a plain patch's new image to its file: the same bytes
// as in memory, and a patch that fails (here the new image's hash) leaves
// neither the file nor its temporary behind.
TEST(PatcherTest, ApplyingToAFileWritesTheVerifiedImageOrNothing) {
  const ImagePair pair = make_pair_from(recipe("insertions"));
  Bytes patch;
  ASSERT_NO_FATAL_FAILURE(make(pair.old_image, pair.new_image, Profile::kLinux, &patch));
  const std::string path = ::testing::TempDir() + "/apply-to-file-" + std::to_string(::getpid());
  HostResult<std::uint64_t> written = apply_patch_to_file(pair.old_image, patch, path);
  ASSERT_TRUE(written.ok()) << written.error().to_string();
  EXPECT_EQ(*written, pair.new_image.size());
  HostResult<Bytes> back = read_file(path);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == pair.new_image);
  std::remove(path.c_str());

  patch[60] ^= std::byte{1};  // the first byte of new_sha256
  patch = with_crcs_repaired(patch);
  written = apply_patch_to_file(pair.old_image, patch, path);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, ErrorCode::kPatchOutputMismatch);
  EXPECT_FALSE(read_file(path).ok());
  EXPECT_FALSE(read_file(path + ".tmp").ok());
}

TEST(PatcherTest, RefusesWorkspaceSmallerThanTheHeaderAsks) {
  const ImagePair pair = make_pair_from(recipe("insertions"));
  for (Profile profile : kProfiles) {
    SCOPED_TRACE(name_of(profile));
    Bytes patch;
    ASSERT_NO_FATAL_FAILURE(make(pair.old_image, pair.new_image, profile, &patch));
    const std::uint32_t needed = header_of(patch).workspace_bytes;
    for (std::size_t size :
         {std::size_t{0}, kHeaderSize - 1, kHeaderSize, std::size_t{needed} - 1}) {
      MemoryImageReader reader(pair.old_image);
      CheckedWriter writer;
      Bytes workspace(std::max<std::size_t>(size, 1));
      Patcher patcher(reader, writer, MutableByteView(workspace.data(), size));
      const Result<Patcher::FeedResult> fed = patcher.feed(patch);
      ASSERT_FALSE(fed.ok()) << size << " bytes";
      EXPECT_EQ(fed.error(), ErrorCode::kPatchWorkspaceTooSmall) << size << " bytes";
      EXPECT_TRUE(writer.bytes().empty());
    }
    // The model and the map are 4-byte aligned: a start 1 byte past a 4-byte
    // boundary costs 3 bytes of the workspace.
    std::vector<std::uint32_t> storage(needed / 4 + 2);
    std::byte* const odd = reinterpret_cast<std::byte*>(storage.data()) + 1;
    {
      MemoryImageReader reader(pair.old_image);
      CheckedWriter writer;
      Patcher patcher(reader, writer, MutableByteView(odd, needed + 2));
      EXPECT_EQ(run(patcher, writer, patch, 4096).error, ErrorCode::kPatchWorkspaceTooSmall);
    }
    {
      MemoryImageReader reader(pair.old_image);
      CheckedWriter writer;
      Patcher patcher(reader, writer, MutableByteView(odd, needed + 3));
      const Outcome outcome = run(patcher, writer, patch, 4096);
      EXPECT_EQ(outcome.error, ErrorCode::kOk);
      EXPECT_TRUE(same_bytes(outcome.output, pair.new_image));
    }
  }
}

TEST(PatcherTest, RejectsDataAfterACompletePatch) {
  for (const char* name : {"empty_new", "one_byte_into_second_mcu_tiny_frame"}) {
    SCOPED_TRACE(name);
    const ImagePair pair = make_pair_from(recipe(name));
    Bytes patch;
    ASSERT_NO_FATAL_FAILURE(make(pair.old_image, pair.new_image, Profile::kMcuTiny, &patch));
    Bytes longer = patch;
    longer.push_back(std::byte{0});
    for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, longer.size()}) {
      EXPECT_EQ(apply(pair.old_image, longer, chunk).error, ErrorCode::kPatchTrailingData)
          << "chunk " << chunk;
    }
    // The same when the extra bytes arrive after the patch was reported done.
    MemoryImageReader reader(pair.old_image);
    CheckedWriter writer;
    Bytes workspace = workspace_for(patch);
    Patcher patcher(reader, writer, workspace);
    ASSERT_EQ(run(patcher, writer, patch, 4096).error, ErrorCode::kOk);
    const Result<Patcher::FeedResult> more = patcher.feed(ByteView(longer).last(1));
    ASSERT_FALSE(more.ok());
    EXPECT_EQ(more.error(), ErrorCode::kPatchTrailingData);
    EXPECT_EQ(patcher.finish().error(), ErrorCode::kPatchTrailingData);

    HostResult<Bytes> applied = apply_patch(pair.old_image, longer);
    ASSERT_FALSE(applied.ok());
    EXPECT_EQ(applied.error().code, ErrorCode::kPatchTrailingData);
  }
}

TEST(PatcherTest, KeepsReportingItsFirstError) {
  const ImagePair pair = make_pair_from(recipe("insertions"));
  Bytes patch;
  ASSERT_NO_FATAL_FAILURE(make(pair.old_image, pair.new_image, Profile::kMcuTiny, &patch));
  Bytes bad = patch;
  bad[0] ^= std::byte{1};
  MemoryImageReader reader(pair.old_image);
  CheckedWriter writer;
  Bytes workspace = workspace_for(patch);
  Patcher patcher(reader, writer, workspace);
  const Result<Patcher::FeedResult> first = patcher.feed(bad);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error(), ErrorCode::kPatchBadMagic);
  const Result<Patcher::FeedResult> again = patcher.feed(ByteView(patch).subspan(kHeaderSize));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), ErrorCode::kPatchBadMagic);
  EXPECT_EQ(patcher.finish().error(), ErrorCode::kPatchBadMagic);
  EXPECT_TRUE(writer.bytes().empty());
}

// --- Format versions.

Bytes read_testdata(const char* name) {
  HostResult<Bytes> bytes =
      read_file(test_images::source_path(std::string("delta/patch/testdata/") + name));
  EXPECT_TRUE(bytes.ok()) << name << ": " << bytes.error().to_string();
  return bytes.ok() ? std::move(bytes).value() : Bytes{};
}

struct GoldenPatch {
  const char* file;
  Profile profile;
};
// Made by the version 1 encoder before format 2 existed, and kept as files:
// devices in the field and the deltas servers have cached depend on them.
constexpr GoldenPatch kVersion1Patches[] = {{"v1-mcu-tiny.patch", Profile::kMcuTiny},
                                            {"v1-linux.patch", Profile::kLinux}};

TEST(FormatVersionTest, Version1PatchesStillApply) {
  const Bytes old_image = read_testdata("v1-old.bin");
  const Bytes new_image = read_testdata("v1-new.bin");
  ASSERT_FALSE(old_image.empty());
  for (const GoldenPatch& golden : kVersion1Patches) {
    SCOPED_TRACE(golden.file);
    const Bytes patch = read_testdata(golden.file);
    ASSERT_GE(patch.size(), kHeaderSize);
    EXPECT_EQ(header_of(patch).version, 1);
    ASSERT_NO_FATAL_FAILURE(expect_round_trip(old_image, new_image, patch, {1, 7, 4096}));
    ASSERT_NO_FATAL_FAILURE(expect_resume_from_every_checkpoint(old_image, new_image, patch, 7));
  }
}

// For agents built before format 2, the encoder still writes version 1, byte
// for byte as it did.
TEST(FormatVersionTest, EncoderWritesVersion1ByteForByteOnRequest) {
  const Bytes old_image = read_testdata("v1-old.bin");
  const Bytes new_image = read_testdata("v1-new.bin");
  for (const GoldenPatch& golden : kVersion1Patches) {
    SCOPED_TRACE(golden.file);
    DiffOptions options;
    options.profile = golden.profile;
    options.format_version = 1;
    HostResult<Bytes> made = make_patch(old_image, new_image, options);
    ASSERT_TRUE(made.ok()) << made.error().to_string();
    EXPECT_TRUE(same_bytes(*made, read_testdata(golden.file)));
  }
}

// The encoder picks one of these per patch, so each must decode and fit the RAM
// its profile promises.
TEST(FormatVersionTest, EveryVersion2ShapeFitsItsProfileAndRoundTrips) {
  const ImagePair pair = make_pair_from(recipe("four_mcu_tiny_frames_and_a_bit"));
  for (Profile profile : kProfiles) {
    const std::vector<ModelParams> shapes = candidate_params(profile, 2);
    ASSERT_GE(shapes.size(), 2u) << name_of(profile);
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      SCOPED_TRACE(name_of(profile) + " shape " + std::to_string(i));
      EXPECT_LE(workspace_bytes(shapes[i]), profile_info(profile).workspace_limit);
      DiffOptions options;
      options.profile = profile;
      options.params = shapes[i];
      HostResult<Bytes> made = make_patch(pair.old_image, pair.new_image, options);
      ASSERT_TRUE(made.ok()) << made.error().to_string();
      const PatchHeader header = header_of(*made);
      EXPECT_EQ(header.version, 2);
      EXPECT_TRUE(header.params == shapes[i]);
      ASSERT_NO_FATAL_FAILURE(expect_round_trip(pair.old_image, pair.new_image, *made, {7}));
    }
  }
}

TEST(FormatVersionTest, EncoderRefusesAShapeItsFormatCannotCarry) {
  const ImagePair pair = make_pair_from(recipe("small_edit"));
  DiffOptions options;
  options.format_version = 1;
  options.params = candidate_params(Profile::kLinux, 2).front();  // adaptive: version 2 only
  HostResult<Bytes> made = make_patch(pair.old_image, pair.new_image, options);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().code, ErrorCode::kInvalidArgument);
  options.format_version = 3;
  options.params.reset();
  made = make_patch(pair.old_image, pair.new_image, options);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().code, ErrorCode::kInvalidArgument);
}

// Header bytes 10 and 11 were reserved in version 1: a version 1 header that
// sets them is corrupt, not a version 2 shape in disguise.
TEST(FormatVersionTest, HeaderChecksVersionAndItsFields) {
  Bytes patch = read_testdata("v1-mcu-tiny.patch");
  ASSERT_GE(patch.size(), kHeaderSize);
  auto decode_with = [&](std::size_t at, std::uint8_t value) {
    std::array<std::byte, kHeaderSize> h;
    std::copy_n(patch.begin(), kHeaderSize, h.begin());
    h[at] = std::byte{value};
    store_le32(h.data() + kHeaderSize - 4, crc32(ByteView(h.data(), kHeaderSize - 4)));
    return decode_header(h);
  };
  EXPECT_EQ(decode_with(10, 1).error(), ErrorCode::kPatchCorrupt);
  EXPECT_EQ(decode_with(11, 1).error(), ErrorCode::kPatchCorrupt);
  EXPECT_EQ(decode_with(4, 0).error(), ErrorCode::kPatchUnsupportedVersion);
  EXPECT_EQ(decode_with(4, 3).error(), ErrorCode::kPatchUnsupportedVersion);
  // Read as version 2, the same shape (no position contexts) gains fast-start
  // probabilities, and a position context changes the workspace it implies.
  const Result<PatchHeader> as_v2 = decode_with(4, 2);
  ASSERT_TRUE(as_v2.ok());
  EXPECT_TRUE(as_v2->params.adaptive_rate);
  patch[4] = std::byte{2};
  EXPECT_EQ(decode_with(10, 1).error(), ErrorCode::kPatchCorrupt);
}

}  // namespace

// --- Relocation prediction (Thumb-2).

class RelocationTest : public testing::TestWithParam<Profile> {
 protected:
  static constexpr std::uint32_t kBase = 0x08004000;

  void SetUp() override {
    // Function 40 of 300 grows by 36 bytes: the 260 after it move, and with them
    // the calls into them and the pointer table.
    old_ = thumb2_image(kBase, 300, 1);
    new_ = thumb2_image(kBase, 300, 1, 40, 36);
    ASSERT_GT(old_.size(), 64u * 1024) << "two mcu-tiny frames at least";
  }

  Bytes make_with(std::optional<Arch> arch, DiffStats* stats) {
    DiffOptions options;
    options.profile = GetParam();
    options.arch = arch;
    HostResult<Bytes> made = make_patch(old_, new_, options, stats);
    EXPECT_TRUE(made.ok()) << made.error().to_string();
    return made.ok() ? std::move(made).value() : Bytes{};
  }

  Bytes old_, new_;
};

TEST_P(RelocationTest, DetectsTheLoadAddressAndShrinksThePatch) {
  const std::vector<std::uint32_t> bases = thumb2_base_candidates(old_);
  ASSERT_FALSE(bases.empty());
  EXPECT_EQ(bases.front(), kBase);
  DiffStats plain_stats, stats;
  const Bytes plain = make_with(Arch::kNone, &plain_stats);
  const Bytes predicted = make_with(std::nullopt, &stats);
  EXPECT_EQ(plain_stats.arch, Arch::kNone);
  ASSERT_EQ(stats.arch, Arch::kThumb2);
  EXPECT_EQ(stats.reloc_base, kBase);
  EXPECT_GT(stats.reloc_entries, 0u);
  // Without prediction every moved call and pointer is a diff byte to code.
  EXPECT_LT(predicted.size() * 3, plain.size())
      << predicted.size() << " bytes predicted, " << plain.size() << " without";
  const PatchHeader header = header_of(predicted);
  EXPECT_EQ(header.reloc_count, stats.reloc_entries);
  EXPECT_LE(header.workspace_bytes, profile_info(GetParam()).workspace_limit);
  EXPECT_EQ(header.workspace_bytes, workspace_bytes(header.params, header.reloc_count));
}

TEST_P(RelocationTest, RoundTripsAtEveryChunkSizeAndResumesFromEveryCheckpoint) {
  DiffStats stats;
  const Bytes patch = make_with(Arch::kThumb2, &stats);
  ASSERT_EQ(stats.arch, Arch::kThumb2);
  ASSERT_NO_FATAL_FAILURE(expect_round_trip(old_, new_, patch, {1, 2, 7, 64, 4096}));
  ASSERT_NO_FATAL_FAILURE(expect_resume_from_every_checkpoint(old_, new_, patch, 7));
}

TEST_P(RelocationTest, RejectsAnyDamageToTheRelocationBlockAndAnyCut) {
  DiffStats stats;
  const Bytes patch = make_with(Arch::kThumb2, &stats);
  ASSERT_EQ(stats.arch, Arch::kThumb2);
  // The block runs from the header to the first frame header; a frame header's
  // payload size is what the first checkpoint's offset tells apart.
  const std::size_t block_end = apply(old_, patch, 4096).checkpoints.front().patch_offset;
  ASSERT_GT(block_end, kHeaderSize + kRelocBlockHeadSize);
  std::vector<std::size_t> positions;
  for (std::size_t at = kHeaderSize; at < block_end; ++at) positions.push_back(at);
  ASSERT_NO_FATAL_FAILURE(expect_corruption_caught(old_, new_, patch, positions));
  ASSERT_NO_FATAL_FAILURE(expect_every_prefix_rejected(old_, patch, 97));
}

TEST_P(RelocationTest, ForcedOnAnImageWithoutCodeStillRoundTrips) {
  // Prediction that predicts nothing useful costs bytes but never correctness.
  const ImagePair pair = make_pair_from(recipe("insertions"));
  DiffOptions options;
  options.profile = GetParam();
  options.arch = Arch::kThumb2;
  DiffStats stats;
  HostResult<Bytes> patch = make_patch(pair.old_image, pair.new_image, options, &stats);
  ASSERT_TRUE(patch.ok()) << patch.error().to_string();
  EXPECT_EQ(stats.arch, Arch::kThumb2);
  ASSERT_NO_FATAL_FAILURE(expect_round_trip(pair.old_image, pair.new_image, *patch, {7, 4096}));
}

INSTANTIATE_TEST_SUITE_P(AllProfiles, RelocationTest, testing::ValuesIn(kProfiles),
                         [](const testing::TestParamInfo<Profile>& p) { return name_of(p.param); });

TEST(RelocationPredictTest, AnyWindowPredictsWhatTheWholeImageDoes) {
  // The encoder predicts the whole image at once; the patcher, 256 bytes at a time
  // through a small window. Both must agree on every byte, wherever the window falls.
  const Bytes image = thumb2_image(0x1000, 120, 5);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(image.data());
  const auto size = static_cast<std::uint32_t>(image.size());
  std::mt19937 rng(3);
  std::vector<RelocEntry> entries;
  for (std::uint32_t start = 0; start < size;
       start += static_cast<std::uint32_t>(64 + rng() % 2048)) {
    entries.push_back({start, static_cast<std::int32_t>(rng() % 4096) - 2048});
  }
  const RelocMap map{Arch::kThumb2, 0x1000, size, entries.data(),
                     static_cast<std::uint32_t>(entries.size())};
  std::vector<std::uint8_t> whole(size);
  predict(map, bytes, 0, 0, size, whole.data());
  std::size_t changed = 0;
  for (std::uint32_t i = 0; i < size; ++i) changed += whole[i] != bytes[i];
  EXPECT_GT(changed, size / 20) << "the map should move many calls and pointers";
  std::vector<std::uint8_t> part(300);
  for (std::uint32_t pos = 0; pos < size; pos += static_cast<std::uint32_t>(1 + rng() % 97)) {
    const std::uint32_t len =
        std::min<std::uint32_t>(static_cast<std::uint32_t>(1 + rng() % 256), size - pos);
    const std::uint32_t lo = pos >= kRelocMargin ? pos - kRelocMargin : 0;
    const std::uint32_t hi = std::min<std::uint32_t>(size, pos + len + kRelocMargin);
    // Exactly the window, copied, so that a read outside it would show (ASan).
    const std::vector<std::uint8_t> window(bytes + lo, bytes + hi);
    predict(map, window.data(), lo, pos, len, part.data());
    ASSERT_TRUE(std::equal(part.begin(), part.begin() + len, whole.begin() + pos))
        << "window at " << pos << ", " << len << " bytes";
  }
}

}  // namespace updraft::delta
