// test_parameters.cpp: the flat parameter buffer's layout (model/parameters.h).
//
// Compiled into both test programs, the float one and the double one
// (-DRAM_DOUBLE): the layout, and with it the parameter count and the order
// of a checkpoint's numbers, must not depend on the scalar type, so that
// either build reads the other's checkpoints. The expected numbers below are
// worked out by hand from the layer shapes; every block is padded to a
// multiple of 16 elements.
#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "model/parameters.h"

TEST_CASE("parameters: the layout is the same in the float and the double build") {
  SUBCASE("the default model: every block's offset") {
    // W [in, out] and b [out], each rounded up to a multiple of 16:
    //   glimpse.what   W 64 x 128 = 8192      b 128
    //   glimpse.where  W 2 x 128 = 256        b 128
    //   glimpse.join   W 256 x 256 = 65536    b 256
    //   core.in        W 256 x 256 = 65536    b 256
    //   core.rec       W 256 x 256 = 65536
    //   locator        W 256 x 2 = 512        b 2 -> 16
    //   action         W 256 x 10 = 2560      b 10 -> 16
    //   baseline       W 256 x 1 = 256        b 1 -> 16
    const ModelConfig config;
    const Parameters params(config);
    const std::vector<std::pair<std::string, std::size_t>> expected = {
        {"glimpse.what.W", 0},      {"glimpse.what.b", 8192},  {"glimpse.where.W", 8320},
        {"glimpse.where.b", 8576},  {"glimpse.join.W", 8704},  {"glimpse.join.b", 74240},
        {"core.in.W", 74496},       {"core.in.b", 140032},     {"core.rec.W", 140288},
        {"locator.W", 205824},      {"locator.b", 206336},     {"action.W", 206352},
        {"action.b", 208912},       {"baseline.W", 208928},    {"baseline.b", 209184},
    };
    REQUIRE(params.blocks().size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      CAPTURE(i);
      CHECK(params.blocks()[i].name == expected[i].first);
      CHECK(params.blocks()[i].offset == expected[i].second);
    }
    CHECK(params.size() == 209200);  // baseline.b's 16 after 209184
  }
  SUBCASE("the LSTM core and locator, 3 scales: the count") {
    // glimpse.what W 192 x 128 + b 128 = 24704; glimpse.where 384;
    // glimpse.join 65792; core.in W 256 x 1024 + b 1024 = 263168; core.rec
    // 262144; locator W 256 x 8 = 2048 + b 8 -> 16: 2064; action 2576;
    // baseline 272; locator.rec W 2 x 8 = 16. Sum 621120.
    ModelConfig config;
    config.scales = 3;
    config.core = CoreKind::lstm;
    config.locator = LocatorKind::lstm;
    const Parameters params(config);
    CHECK(params.size() == 621120);
    CHECK(params.blocks().back().name == "locator.rec.W");
    CHECK(params.blocks().back().offset == 621104);
  }
  SUBCASE("odd widths: every block padded") {
    // G = 3 x 3 = 9. W and b each rounded up to 16:
    //   what  9 x 5 = 45 -> 48, 5 -> 16      64
    //   where 2 x 3 = 6 -> 16, 3 -> 16       32
    //   join  8 x 6 = 48, 6 -> 16            64
    //   core.in 6 x 7 = 42 -> 48, 7 -> 16    64
    //   core.rec 7 x 7 = 49 -> 64            64
    //   locator 7 x 2 = 14 -> 16, 2 -> 16    32
    //   action 7 x 3 = 21 -> 32, 3 -> 16     48
    //   baseline 7 -> 16, 1 -> 16            32
    // Sum 400 (with blocks padded to 64 bytes of double, 8 elements: 312).
    ModelConfig config;
    config.patch = 3;
    config.classes = 3;
    config.what_hidden = 5;
    config.where_hidden = 3;
    config.glimpse_hidden = 6;
    config.hidden = 7;
    const Parameters params(config);
    CHECK(params.size() == 400);
    for (const ParamBlock& block : params.blocks()) {
      CAPTURE(block.name);
      CHECK(block.offset % 16 == 0);
      CHECK(reinterpret_cast<std::uintptr_t>(params.data() + block.offset) % 64 == 0);
    }
  }
}

TEST_CASE("parameters: layers() names every view once, and the views lie where blocks() says") {
  ModelConfig config;
  config.core = CoreKind::lstm;
  config.locator = LocatorKind::lstm;
  Parameters params(config);
  std::set<std::string> names;
  std::set<const LinearParams*> views;
  for (const LayerSpec& layer : params.layers()) {
    REQUIRE(layer.name != nullptr);
    names.insert(layer.name);
    views.insert(&(params.views().*layer.view));
  }
  CHECK(names.size() == static_cast<std::size_t>(kLayerCount));
  CHECK(views.size() == static_cast<std::size_t>(kLayerCount));
  // Each view's W and b at its block's offset, with the block's size.
  std::size_t blocks_seen = 0;
  for (const LayerSpec& layer : params.layers()) {
    CAPTURE(layer.name);
    const LinearParams& v = params.views().*layer.view;
    for (const ParamBlock& block : params.blocks()) {
      if (block.name == std::string(layer.name) + ".W") {
        CHECK(v.W == params.data() + block.offset);
        CHECK(block.size == static_cast<std::size_t>(v.in) * v.out);
        ++blocks_seen;
      } else if (block.name == std::string(layer.name) + ".b") {
        CHECK(v.b == params.data() + block.offset);
        CHECK(block.size == static_cast<std::size_t>(v.out));
        ++blocks_seen;
      }
    }
  }
  CHECK(blocks_seen == params.blocks().size());
  // A copy points its views into its own buffer, at the same offsets.
  params.init_uniform(7);
  const Parameters copy(params);
  for (const LayerSpec& layer : params.layers()) {
    CAPTURE(layer.name);
    const LinearParams& original = params.views().*layer.view;
    const LinearParams& copied = copy.views().*layer.view;
    CHECK(copied.W - copy.data() == original.W - params.data());
    CHECK(copied.W[0] == original.W[0]);
    CHECK((copied.b == nullptr) == (original.b == nullptr));
    if (original.b) CHECK(copied.b - copy.data() == original.b - params.data());
  }
}
