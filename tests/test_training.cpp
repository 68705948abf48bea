// test_training.cpp: what a training run promises beyond its gradients (the
// float program as it runs): the numbers do not depend on the thread count,
// checkpoints read back exactly and refuse damaged files by name, and a run
// resumed from its last checkpoint ends where the uninterrupted run ends.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "kernels/random.h"
#include "kernels/thread_pool.h"
#include "small_run.h"
#include "test_files.h"
#include "train/checkpoint.h"
#include "train/optimizer.h"
#include "train/settings.h"
#include "train/train.h"

namespace {

// Random images of the default MNIST shape with random labels.
Dataset random_images(int count, uint64_t seed) {
  Dataset d;
  d.count = count;
  d.channels = 1;
  d.height = d.width = 28;
  d.classes = 10;
  Rng rng(seed);
  d.pixels.resize(static_cast<std::size_t>(count) * 28 * 28);
  for (auto& p : d.pixels) p = static_cast<uint8_t>(rng.next_u64());
  d.labels.resize(count);
  for (auto& l : d.labels) l = static_cast<uint8_t>(rng.below(10));
  return d;
}

std::vector<real> flat(const Parameters& p) { return std::vector<real>(p.data(), p.data() + p.size()); }

// metrics.csv without its last column (wall-clock seconds).
std::string metrics_without_seconds(const std::string& path) { return without_seconds(read_text(path)); }

// `run` trained in one go into whole_dir, and into split_dir for one epoch,
// then resumed to its end; returns the two last.bin files, whole first.
std::pair<Checkpoint, Checkpoint> whole_and_resumed(TrainConfig run, const std::string& whole_dir,
                                                    const std::string& split_dir) {
  const int epochs = run.epochs;
  run.out_dir = whole_dir;
  train(run, false, "whole");
  run.out_dir = split_dir;
  run.epochs = 1;
  train(run, false, "first part");
  run.epochs = epochs;
  train(run, true, "resumed");
  return {load_checkpoint(whole_dir + "/last.bin"), load_checkpoint(split_dir + "/last.bin")};
}


}  // namespace

TEST_CASE("training: a batch gradient is the same with 1, 2 or 3 threads, bit for bit") {
  ModelConfig config;
  config.glimpses = 4;
  const Dataset data = random_images(64, 11);
  Parameters params(config);
  params.init_uniform(3);
  std::vector<int> indices(32);
  for (int i = 0; i < 32; ++i) indices[i] = (7 * i) % 64;
  std::vector<std::vector<real>> grads;
  std::vector<double> losses;
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    BatchGradient gradient(config, 32, 4);
    const EpisodeLoss loss = gradient.compute(pool, params, LossWeights{}, data, indices.data(), 99);
    grads.push_back(flat(gradient.grads()));
    losses.push_back(loss.nll + loss.reinforce + loss.baseline);
  }
  double norm = 0;
  for (real g : grads[0]) norm += static_cast<double>(g) * g;
  CHECK(norm > 0);
  for (int k = 1; k < 3; ++k) {
    CAPTURE(k);
    CHECK(std::memcmp(grads[0].data(), grads[k].data(), grads[0].size() * sizeof(real)) == 0);
    CHECK(losses[0] == losses[k]);
  }
}

TEST_CASE("training: threads beyond the shards help inside them, bit for bit") {
  // One shard with 1, 2, 3 and 5 threads (teams of 1 to 5), and two shards
  // with 5 threads (teams of 3 and 2) against 2 threads: a team's members
  // run whole blocks of images through the forward pass
  // (the retina at one scale, and at 3 with their summed-area tables; the
  // last config reads every view of a step: the LSTM locator's, and the
  // outputs O_t of the change reward). In the backward pass the big products
  // are cut into blocks of their output, and every element keeps its sum;
  // the rectifier's and the LSTM's gates' passes into blocks of images.
  // Batch 128, hidden 256: big enough that a team of two cuts each of them.
  const int batch = 128;
  const Dataset data = random_images(64, 13);
  std::vector<int> indices(batch);
  for (int i = 0; i < batch; ++i) indices[i] = (5 * i + 3) % 64;
  ModelConfig rnn, lstm, retina, views;
  rnn.glimpses = lstm.glimpses = retina.glimpses = views.glimpses = 4;
  lstm.core = CoreKind::lstm;  // its products on weight panels
  retina.scales = 3;
  REQUIRE(glimpse_tables_pay(retina));
  views.locator = LocatorKind::lstm;
  RewardConfig change;
  change.kind = RewardKind::change;
  for (const ModelConfig& config : {rnn, lstm, retina, views}) {
    const RewardConfig reward = config.locator == LocatorKind::lstm ? change : RewardConfig{};
    Parameters params(config);
    params.init_uniform(3);
    for (int shards : {1, 2}) {
      std::vector<std::vector<real>> grads;
      std::vector<double> losses;
      const std::vector<int> thread_counts = shards == 1 ? std::vector<int>{1, 2, 3, 5} : std::vector<int>{2, 5};
      for (int threads : thread_counts) {
        ThreadPool pool(threads);
        BatchGradient gradient(config, batch, shards, reward);
        const EpisodeLoss loss = gradient.compute(pool, params, LossWeights{}, data, indices.data(), 17);
        grads.push_back(flat(gradient.grads()));
        losses.push_back(loss.nll + loss.reinforce + loss.baseline);
      }
      for (std::size_t k = 1; k < grads.size(); ++k) {
        const std::string core = core_name(config.core);
        CAPTURE(core);
        CAPTURE(config.scales);
        CAPTURE(shards);
        CAPTURE(thread_counts[k]);
        CHECK(std::memcmp(grads[0].data(), grads[k].data(), grads[0].size() * sizeof(real)) == 0);
        CHECK(losses[0] == losses[k]);
      }
    }
  }
}

TEST_CASE("training: a batch gradient does not depend on the batches before it") {
  // Shard 0 adds into the result and shards 1.. into buffers that each sum
  // leaves zero for the next batch: a second batch must come out as if it
  // were the first.
  ModelConfig config;
  config.glimpses = 3;
  config.hidden = config.glimpse_hidden = 64;
  const Dataset data = random_images(40, 15);
  Parameters params(config);
  params.init_uniform(8, 0.3);
  std::vector<int> first(12), second(12);
  for (int i = 0; i < 12; ++i) first[i] = i, second[i] = 39 - 2 * i;
  ThreadPool pool(2);
  BatchGradient reused(config, 12, 3), fresh(config, 12, 3);
  reused.compute(pool, params, LossWeights{}, data, first.data(), 5);
  const EpisodeLoss again = reused.compute(pool, params, LossWeights{}, data, second.data(), 6);
  const EpisodeLoss once = fresh.compute(pool, params, LossWeights{}, data, second.data(), 6);
  CHECK(flat(reused.grads()) == flat(fresh.grads()));
  CHECK(again.nll == once.nll);
}

TEST_CASE("training: one shard gives the same epoch with 1, 2, 3 or 5 threads") {
  TempDir data_dir;
  write_fake_mnist(data_dir, 10050, 20, 10050);  // 50 training images
  std::vector<std::string> metrics;
  std::vector<std::vector<float>> weights;  // last.bin's: every bit, where metrics.csv prints 6 digits
  for (int threads : {1, 2, 3, 5}) {
    TempDir out;
    TrainConfig c = small_run(data_dir.path(), out.path(), 1);
    c.model = ModelConfig{};  // hidden 256: products big enough to be cut
    c.model.glimpses = 3;
    c.batch = 25;
    c.shards = 1;
    c.threads = threads;
    train(c, false, "threads");
    metrics.push_back(metrics_without_seconds(out.file("metrics.csv")));
    weights.push_back(load_checkpoint(out.file("last.bin")).params);
  }
  CHECK(metrics[0].find("\n1,") != std::string::npos);
  for (std::size_t k = 1; k < metrics.size(); ++k) {
    CAPTURE(k);
    CHECK(metrics[0] == metrics[k]);
    CHECK(weights[0] == weights[k]);
  }
}

TEST_CASE("evaluation: the error does not depend on the thread count") {
  ModelConfig config;
  const Dataset data = random_images(250, 12);
  Parameters params(config);
  params.init_uniform(4, 0.3);
  ThreadPool one(1), two(2);
  const Evaluation a = evaluate(params, config, data, one, 1), b = evaluate(params, config, data, two, 1);
  CHECK(a.error == b.error);
  CHECK(a.nll == doctest::Approx(b.nll).epsilon(1e-12));
  CHECK(a.error > 0);
}

TEST_CASE("evaluation: random places (--locations random) are fixed by the seed, whatever the thread count") {
  ModelConfig config;
  config.locations = LocationSource::random;
  const Dataset data = random_images(250, 12);
  Parameters params(config);
  params.init_uniform(4, 0.3);
  ThreadPool one(1), two(2);
  const Evaluation a = evaluate(params, config, data, one, 5), b = evaluate(params, config, data, two, 5);
  const Evaluation other_seed = evaluate(params, config, data, two, 6);
  CHECK(a.error == b.error);
  CHECK(a.nll == doctest::Approx(b.nll).epsilon(1e-12));
  for (std::size_t i = 0; i < a.mean_location.size(); ++i)  // summed in another order: rounding apart
    CHECK(a.mean_location[i] == doctest::Approx(b.mean_location[i]).epsilon(1e-12));
  CHECK(a.nll != other_seed.nll);
  // Not the policy's places: random ones average near 0 over 250 images
  // (standard deviation 1/sqrt(3 * 250) = 0.04).
  ModelConfig policy = config;
  policy.locations = LocationSource::policy;
  const Evaluation at_mean = evaluate(params, policy, data, two, 5);
  CHECK(a.mean_location != at_mean.mean_location);
  for (double v : a.mean_location) CHECK(std::fabs(v) < 0.2);
}

TEST_CASE("evaluation over M paths (ram eval --paths): the mean class probability of M paths drawn from the policy") {
  ModelConfig config;
  config.sigma = 0.5;  // wide, so that the paths differ from the mean's and from each other
  const Dataset data = random_images(130, 14);
  Parameters params(config);
  params.init_uniform(4, 0.05);  // small weights: no probability underflows in the direct sum below
  ThreadPool one(1), two(2);
  const int M = 3;
  const Evaluation a = evaluate(params, config, data, one, 5, M), b = evaluate(params, config, data, two, 5, M);
  SUBCASE("the seed fixes the paths whatever the thread count") {
    CHECK(a.error == b.error);
    CHECK(a.nll == doctest::Approx(b.nll).epsilon(1e-12));
    for (std::size_t i = 0; i < a.mean_location.size(); ++i)
      CHECK(a.mean_location[i] == doctest::Approx(b.mean_location[i]).epsilon(1e-12));
    CHECK(evaluate(params, config, data, two, 6, M).nll != a.nll);
  }
  SUBCASE("the error and nll are those of the mean probability, path m of image i from path_stream(seed, i, m)") {
    Episode ep(config, data.count);
    ep.resize(data.count);
    std::vector<double> p(static_cast<std::size_t>(data.count) * config.classes, 0.0);
    std::vector<double> location(2 * config.glimpses, 0.0);
    for (int m = 0; m < M; ++m) {
      for (int i = 0; i < data.count; ++i) {
        ep.images[i] = data.image(i);
        ep.labels[i] = data.labels[i];
        ep.draw_locations(i, path_stream(5, i, m), Locations::sample);
      }
      episode_forward(params, ep, Locations::sample);
      for (int i = 0; i < data.count; ++i) {
        for (int k = 0; k < config.classes; ++k) p[i * config.classes + k] += std::exp(double(ep.logp.at(i, k))) / M;
        for (int s = 0; s < config.glimpses; ++s)
          for (int d = 0; d < 2; ++d)
            location[2 * s + d] += ep.l[(static_cast<std::size_t>(s) * data.count + i) * 2 + d] / (M * data.count);
      }
    }
    int wrong = 0;
    double nll = 0;
    for (int i = 0; i < data.count; ++i) {
      const double* p_i = &p[i * config.classes];
      wrong += static_cast<int>(std::max_element(p_i, p_i + config.classes) - p_i) != data.labels[i];
      nll -= std::log(p_i[data.labels[i]]) / data.count;
    }
    CHECK(a.error == doctest::Approx(double(wrong) / data.count).epsilon(1e-12));
    CHECK(a.nll == doctest::Approx(nll).epsilon(1e-6));
    // One episode of 130 images here, chunks of 100 there: the products'
    // blocks differ, so the floats do in their last bits.
    for (std::size_t i = 0; i < location.size(); ++i) CHECK(std::fabs(a.mean_location[i] - location[i]) < 1e-6);
    // The paths are not the mean's: a wide policy moves the glimpses, and
    // averaging paths is not looking at the mean.
    const Evaluation at_mean = evaluate(params, config, data, two, 5);
    CHECK(a.nll != doctest::Approx(at_mean.nll).epsilon(1e-6));
  }
  SUBCASE("a model that looks at random places averages over M draws of random places") {
    ModelConfig random_places = config;
    random_places.locations = LocationSource::random;
    const Evaluation one_set = evaluate(params, random_places, data, two, 5);
    const Evaluation paths_one = evaluate(params, random_places, data, one, 5, M);
    const Evaluation paths_two = evaluate(params, random_places, data, two, 5, M);
    CHECK(paths_one.error == paths_two.error);
    CHECK(paths_one.nll == doctest::Approx(paths_two.nll).epsilon(1e-12));
    CHECK(paths_one.nll != doctest::Approx(one_set.nll).epsilon(1e-6));
    // Uniform places in [-1, 1]: no policy's mean, and over 3 draws of 130
    // images the mean location stays near 0 (standard deviation 0.03).
    for (double v : paths_two.mean_location) CHECK(std::fabs(v) < 0.15);
    CHECK(paths_two.mean_location != a.mean_location);
  }
  SUBCASE("with a policy of almost no spread the paths are the mean's") {
    ModelConfig narrow = config;
    narrow.sigma = 1e-6;
    const Evaluation paths = evaluate(params, narrow, data, two, 5, M), at_mean = evaluate(params, narrow, data, two, 5);
    CHECK(paths.error == at_mean.error);
    CHECK(paths.nll == doctest::Approx(at_mean.nll).epsilon(1e-4));
    for (std::size_t i = 0; i < paths.mean_location.size(); ++i)
      CHECK(paths.mean_location[i] == doctest::Approx(at_mean.mean_location[i]).epsilon(1e-4));
  }
}

TEST_CASE("training: with --locations random the batch looks at random places; the locator and the baseline get no gradient") {
  // The same batch with the policy looking and with random places: the
  // batch's NLL is that of one episode drawing as the configuration says
  // (row j from Rng(mix_key(noise_key, j))); the policy's gradient reaches
  // the locator and the baseline, the random places' reaches neither, and
  // the rest learns in both.
  const Dataset data = random_images(64, 13);
  std::vector<int> indices(32);
  for (int i = 0; i < 32; ++i) indices[i] = i;
  ThreadPool pool(2);
  for (const LocationSource locations : {LocationSource::policy, LocationSource::random}) {
    const bool random = locations == LocationSource::random;
    CAPTURE(random);
    ModelConfig config;
    config.glimpses = 4;
    config.locations = locations;
    Parameters params(config);
    params.init_uniform(3);
    BatchGradient gradient(config, 32, 2);
    const EpisodeLoss loss = gradient.compute(pool, params, LossWeights{}, data, indices.data(), 99);
    const Locations where = random ? Locations::given : Locations::sample;
    Episode ep(config, 32);
    ep.resize(32);
    for (int j = 0; j < 32; ++j) {
      ep.images[j] = data.image(indices[j]);
      ep.labels[j] = data.labels[indices[j]];
      ep.draw_locations(j, mix_key(99, j), where);
    }
    episode_forward(params, ep, where);
    double nll = 0;
    for (int j = 0; j < 32; ++j) nll -= ep.logp.at(j, ep.labels[j]) / 32.0;
    CHECK(loss.nll == doctest::Approx(nll).epsilon(1e-5));
    CHECK((loss.reinforce == 0) == random);
    CHECK((loss.baseline == 0) == random);
    for (const ParamBlock& block : gradient.grads().blocks()) {
      CAPTURE(block.name);
      double norm = 0;
      for (std::size_t i = 0; i < block.size; ++i) norm += std::fabs(gradient.grads().data()[block.offset + i]);
      const bool policy_block = block.name.rfind("locator", 0) == 0 || block.name.rfind("baseline", 0) == 0;
      CHECK((norm > 0) == (!random || !policy_block));
    }
  }
}

TEST_CASE("checkpoint: a saved run reads back field for field") {
  TempDir dir;
  TrainConfig c;
  c.dataset = "mnist";
  c.data_dir = "some/dir";
  c.seed = 77;
  c.model.glimpses = 5;
  c.model.hidden = 40;
  c.optimizer.kind = OptimizerKind::adam;
  c.optimizer.lr = 0.003;
  c.batch = 17;
  c.epochs = 9;
  c.shards = 3;
  c.loss.reinforce_into_core = true;
  c.reward = RewardConfig{RewardKind::lowstd, -0.5};
  c.clip_norm = 2.5;
  Parameters params(c.model);
  params.init_uniform(8);
  Optimizer optimizer(c.optimizer, params.size());
  Parameters grads(c.model);
  grads.init_uniform(9);
  optimizer.step(params.data(), grads.data(), 0.01);
  TrainingState state{4, 0.0123, 3, 81.5};
  const std::string path = dir.file("last.bin");
  save_checkpoint(path, c, params, &state, &optimizer);
  const Checkpoint ck = load_checkpoint(path);
  CHECK(ck.config.dataset == "mnist");
  CHECK(ck.config.data_dir == "some/dir");
  CHECK(ck.config.seed == 77);
  CHECK(ck.config.model.glimpses == 5);
  CHECK(ck.config.model.hidden == 40);
  CHECK(ck.config.optimizer.kind == OptimizerKind::adam);
  CHECK(ck.config.optimizer.lr == 0.003);
  CHECK(ck.config.batch == 17);
  CHECK(ck.config.epochs == 9);
  CHECK(ck.config.shards == 3);
  CHECK(ck.config.loss.reinforce_into_core);
  CHECK(ck.config.reward.kind == RewardKind::lowstd);
  CHECK(ck.config.reward.coef == -0.5);
  CHECK(ck.config.clip_norm == 2.5);
  CHECK(ck.has_training_state);
  CHECK(ck.state.epochs_done == 4);
  CHECK(ck.state.best_valid_error == 0.0123);
  CHECK(ck.state.best_epoch == 3);
  CHECK(ck.optimizer_steps == 1);
  Parameters restored(ck.config.model);
  restore_parameters(ck, restored);
  CHECK(flat(restored) == flat(params));
  Optimizer restored_optimizer(ck.config.optimizer, params.size());
  restore_optimizer(ck, restored_optimizer);
  CHECK(std::memcmp(restored_optimizer.second.data(), optimizer.second.data(),
                    optimizer.second.size() * sizeof(real)) == 0);
  // No temporary file is left behind.
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_CASE("checkpoint: damaged files are refused, naming the file and the field") {
  TempDir dir;
  TrainConfig c;
  Parameters params(c.model);
  params.init_uniform(1);
  const std::string good = dir.file("model.bin");
  save_checkpoint(good, c, params, nullptr, nullptr);
  std::ifstream in(good, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() > 200);
  const std::string bad = dir.file("bad.bin");
  auto load_error = [&](const std::vector<uint8_t>& b) {
    write_file(bad, b);
    return error_of([&] { load_checkpoint(bad); });
  };
  std::vector<uint8_t> b = bytes;
  b.resize(b.size() - 10);
  std::string e = load_error(b);
  CHECK(contains(e, bad));
  CHECK(contains(e, "truncated"));
  CHECK(contains(e, "parameters"));
  b = bytes;
  b[0] = 'X';
  CHECK(contains(load_error(b), "wrong magic"));
  b = bytes;
  b[8] = 99;  // the format version
  CHECK(contains(load_error(b), "version 99"));
  CHECK(contains(load_error(b), "reads versions 1 to"));
  b = bytes;
  b.push_back(0);
  CHECK(contains(load_error(b), "unexpected bytes"));
  // The number of glimpses, in its settings record (test_settings.cpp
  // damages the records in more ways).
  b = bytes;
  const std::string record = "glimpses=7";
  const auto at = std::search(b.begin(), b.end(), record.begin(), record.end());
  REQUIRE(at != b.end());
  *(at + 9) = '0';
  CHECK(contains(load_error(b), "setting 'glimpses': 0 is outside 1..64"));
  // A NaN among the weights.
  b = bytes;
  const float nan = std::nanf("");
  std::memcpy(&b[b.size() - 1 - 4], &nan, 4);
  CHECK(contains(load_error(b), "non-finite"));
  CHECK(contains(error_of([&] { load_checkpoint(dir.file("absent.bin")); }), "absent.bin: cannot open"));
}

TEST_CASE("training: a run resumed from last.bin ends exactly where the uninterrupted run ends") {
  TempDir data_dir;
  write_fake_mnist(data_dir, 10050, 20, 10050);
  TempDir whole, split;
  train(small_run(data_dir.path(), whole.path(), 3), false, "whole");
  train(small_run(data_dir.path(), split.path(), 1), false, "first part");
  train(small_run(data_dir.path(), split.path(), 3), true, "resumed");
  const Checkpoint a = load_checkpoint(whole.file("last.bin"));
  const Checkpoint b = load_checkpoint(split.file("last.bin"));
  CHECK(a.state.epochs_done == 3);
  CHECK(b.state.epochs_done == 3);
  CHECK(a.params == b.params);
  CHECK(a.optimizer_first == b.optimizer_first);
  CHECK(a.optimizer_second == b.optimizer_second);
  CHECK(a.optimizer_steps == b.optimizer_steps);
  CHECK(metrics_without_seconds(whole.file("metrics.csv")) == metrics_without_seconds(split.file("metrics.csv")));
  // command.txt: each call's command line, then its settings as flags, which
  // `ram train` reads back to the same settings.
  std::istringstream command(read_text(split.file("command.txt")));
  std::vector<std::string> lines;
  for (std::string line; std::getline(command, line);) lines.push_back(line);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "first part");
  CHECK(lines[2] == "resumed");
  for (int k : {1, 3}) {
    CAPTURE(lines[k]);
    REQUIRE(lines[k].rfind(kSettingsPrefix, 0) == 0);
    // The directories are plain words here: split at the spaces.
    std::istringstream words(lines[k].substr(std::strlen(kSettingsPrefix)));
    std::vector<std::string> argv_text;
    for (std::string word; words >> word;) argv_text.push_back(word);
    std::vector<const char*> argv;
    for (const std::string& word : argv_text) argv.push_back(word.c_str());
    std::set<std::string> valued = setting_flags();
    valued.insert("--out");
    const Flags f(static_cast<int>(argv.size()), argv.data(), 0, valued, setting_switches());
    const TrainConfig read_back = settings_from_flags(f);
    const TrainConfig run = small_run(data_dir.path(), split.path(), k == 1 ? 1 : 3);
    for (const Setting& s : settings_table())
      if (s.flag) {
        CAPTURE(s.flag);
        CHECK(setting_text(s, read_back) == setting_text(s, run));
      }
    CHECK(f.text("--out", "") == split.path());
  }
  // model.bin holds the weights of the best validation epoch.
  const Checkpoint best = load_checkpoint(whole.file("model.bin"));
  CHECK_FALSE(best.has_training_state);
}

TEST_CASE("training: --shift trains on moved images, and a resumed run with it ends where the whole run ends") {
  TempDir data_dir;
  write_fake_mnist(data_dir, 10050, 20, 10050);
  TempDir plain, whole, split;
  TrainConfig run = small_run(data_dir.path(), plain.path(), 3);
  train(run, false, "unmoved");
  run.shift = 1;  // the fake images are 2 x 2
  const auto [a, b] = whole_and_resumed(run, whole.path(), split.path());
  const Checkpoint unmoved = load_checkpoint(plain.file("last.bin"));
  CHECK(a.config.shift == 1);
  CHECK(b.config.shift == 1);
  CHECK(a.params == b.params);
  CHECK(metrics_without_seconds(whole.file("metrics.csv")) == metrics_without_seconds(split.file("metrics.csv")));
  CHECK(a.params != unmoved.params);  // the move reached the training images
}

TEST_CASE("training: change-code's z_ref is a function of the settings, fixed across batches, and survives a resume") {
  TempDir data_dir;
  write_fake_mnist(data_dir, 10050, 20, 10050);
  TempDir whole, split;
  TrainConfig c = small_run(data_dir.path(), whole.path(), 3);
  c.reward = RewardConfig{RewardKind::change_code, 1.0};
  // The reference: [batch, A], the same each time it is computed, and set by
  // the first-epoch images and the initial weights alone.
  DataSplits data = load_dataset(c.dataset, c.data_dir, c.seed, c.placement, c.model);
  const Tensor z_ref = change_reference(c, data.train);
  REQUIRE(z_ref.dim(0) == c.batch);
  REQUIRE(z_ref.dim(1) == c.model.classes);
  const Tensor again = change_reference(c, data.train);
  CHECK(std::memcmp(z_ref.data(), again.data(), z_ref.size() * sizeof(real)) == 0);
  TrainConfig other_seed = c;
  other_seed.seed = 6;
  CHECK(std::memcmp(z_ref.data(), change_reference(other_seed, data.train).data(), z_ref.size() * sizeof(real)) != 0);
  // Fixed across batches: batch 2's gradient after batch 1 is batch 2's
  // gradient alone, bit for bit (computing never refreshes z_ref).
  Parameters params(c.model);
  params.init_uniform(c.seed);
  ThreadPool pool(2);
  std::vector<int> first(c.batch), second(c.batch);
  for (int j = 0; j < c.batch; ++j) first[j] = j, second[j] = c.batch + 3 * j;
  BatchGradient both(c.model, c.batch, c.shards, c.reward), alone(c.model, c.batch, c.shards, c.reward);
  CHECK_THROWS_WITH_AS(both.compute(pool, params, c.loss, data.train, first.data(), 1),
                       doctest::Contains("change-code needs its reference output first"), std::logic_error);
  both.set_reference(z_ref);
  alone.set_reference(z_ref);
  both.compute(pool, params, c.loss, data.train, first.data(), 1);
  const EpisodeLoss l2 = both.compute(pool, params, c.loss, data.train, second.data(), 2);
  const EpisodeLoss l2_alone = alone.compute(pool, params, c.loss, data.train, second.data(), 2);
  CHECK(l2.reinforce == l2_alone.reinforce);
  CHECK(flat(both.grads()) == flat(alone.grads()));
  // The change-code term moves the gradient (against the classification reward's).
  BatchGradient classify(c.model, c.batch, c.shards);
  classify.compute(pool, params, c.loss, data.train, second.data(), 2);
  CHECK(flat(classify.grads()) != flat(alone.grads()));
  // A resumed run recomputes z_ref and ends where the whole run ends.
  const auto [a, b] = whole_and_resumed(c, whole.path(), split.path());
  CHECK(a.config.reward.kind == RewardKind::change_code);
  CHECK(a.state.epochs_done == 3);
  CHECK(a.params == b.params);
  CHECK(a.optimizer_first == b.optimizer_first);
  CHECK(metrics_without_seconds(whole.file("metrics.csv")) == metrics_without_seconds(split.file("metrics.csv")));
}

TEST_CASE("optimizer: SGD with damped momentum and Adam, one and two steps by hand") {
  // SGD, momentum 0.9, dampening 0.9, lr 0.5, gradient 2 then 4:
  //   v1 = 0.9*0 + 0.1*2 = 0.2,   theta1 = 1 - 0.5*0.2  = 0.9
  //   v2 = 0.9*0.2 + 0.1*4 = 0.58, theta2 = 0.9 - 0.5*0.58 = 0.61
  OptimizerConfig sgd;
  sgd.kind = OptimizerKind::sgd;
  Optimizer s(sgd, 1);
  real theta = 1, g = 2;
  s.step(&theta, &g, 0.5);
  CHECK(theta == doctest::Approx(0.9).epsilon(1e-6));
  g = 4;
  s.step(&theta, &g, 0.5);
  CHECK(theta == doctest::Approx(0.61).epsilon(1e-6));
  // Adam's first step moves every weight by lr * sign(g) (up to eps):
  //   m = 0.1 g, v = 0.001 g^2, m_hat = g, v_hat = g^2, step = lr * g / |g|.
  OptimizerConfig adam;
  adam.kind = OptimizerKind::adam;
  Optimizer a(adam, 2);
  real w[2] = {1, 1}, gw[2] = {3, -0.01f};
  a.step(w, gw, 0.01);
  CHECK(w[0] == doctest::Approx(0.99).epsilon(1e-6));
  CHECK(w[1] == doctest::Approx(1.01).epsilon(1e-5));
}

TEST_CASE("optimizer: the update split over threads equals the serial update, bit for bit") {
  const std::size_t n = 1000;
  std::vector<real> grads(n), serial(n), parallel(n);
  Rng rng(5);
  for (std::size_t i = 0; i < n; ++i) {
    grads[i] = static_cast<real>(rng.normal());
    serial[i] = parallel[i] = static_cast<real>(rng.normal());
  }
  for (OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::adam}) {
    OptimizerConfig c;
    c.kind = kind;
    Optimizer one(c, n), split(c, n);
    ThreadPool pool(3);
    for (int k = 0; k < 3; ++k) {
      one.step(serial.data(), grads.data(), 0.01);
      split.step(pool, parallel.data(), grads.data(), 0.01);
    }
    CHECK(serial == parallel);
  }
}

TEST_CASE("training: a NaN weight makes the batch gradient non-finite, and it is noticed") {
  ModelConfig config;
  config.glimpses = 3;
  const Dataset data = random_images(16, 13);
  Parameters params(config);
  params.init_uniform(2);
  std::vector<int> indices(8);
  for (int i = 0; i < 8; ++i) indices[i] = i;
  ThreadPool pool(2);
  BatchGradient gradient(config, 8, 2);
  gradient.compute(pool, params, LossWeights{}, data, indices.data(), 1);
  CHECK(gradient.finite());
  params.views().core_rec.W[5] = std::nanf("");
  gradient.compute(pool, params, LossWeights{}, data, indices.data(), 1);
  CHECK_FALSE(gradient.finite());
}

TEST_CASE("training: --max-minutes stops the run after the epoch that passes it") {
  TempDir data_dir;
  write_fake_mnist(data_dir, 10050, 20, 10050);
  TempDir run;
  TrainConfig c = small_run(data_dir.path(), run.path(), 3);
  c.max_minutes = 1e-9;
  train(c, false, "limited");
  CHECK(load_checkpoint(run.file("last.bin")).state.epochs_done == 1);
}

TEST_CASE("training: --patience stops the run after N epochs without a better validation error, also on a resume") {
  TempDir data_dir;
  write_fake_mnist(data_dir, 10050, 20, 10050);
  TempDir run;
  // The lowest learning rate there is barely moves the weights, so every
  // epoch's validation error equals the first's, which stays the best (a
  // later one must be lower).
  TrainConfig c = small_run(data_dir.path(), run.path(), 6);
  c.optimizer.lr = 1e-9;
  c.optimizer.min_lr = 0;
  c.patience = 2;
  train(c, false, "patient");
  Checkpoint last = load_checkpoint(run.file("last.bin"));
  CHECK(last.state.best_epoch == 1);
  CHECK(last.state.epochs_done == 3);
  // Resumed with the same patience it trains no further; with more, it goes on
  // until that runs out too.
  train(c, true, "again");
  CHECK(load_checkpoint(run.file("last.bin")).state.epochs_done == 3);
  c.patience = 4;
  train(c, true, "more patient");
  CHECK(load_checkpoint(run.file("last.bin")).state.epochs_done == 5);
  // 0 never stops.
  c.patience = 0;
  train(c, true, "to the end");
  CHECK(load_checkpoint(run.file("last.bin")).state.epochs_done == 6);
}

TEST_CASE("optimizer: gradient-norm clipping scales a long gradient to the ceiling, leaves a short one") {
  // (3, 4) has norm 5: clipped to 1 it becomes (0.6, 0.8); a ceiling of 10 leaves it.
  real g[2] = {3, 4};
  CHECK(clip_gradient_norm(g, 2, 10) == doctest::Approx(5));
  CHECK(g[0] == 3);
  CHECK(g[1] == 4);
  CHECK(clip_gradient_norm(g, 2, 1) == doctest::Approx(5));
  CHECK(g[0] == doctest::Approx(0.6));
  CHECK(g[1] == doctest::Approx(0.8));
  CHECK(clip_gradient_norm(g, 2, 0) == doctest::Approx(1));
  CHECK(g[0] == doctest::Approx(0.6));
}

TEST_CASE("parameters: the weight panels give the same forward bits and backward gradients, and follow the weights") {
  ModelConfig config;
  config.core = CoreKind::lstm;
  Parameters params(config);
  params.init_uniform(4);
  const Dataset data = random_images(64, 8);
  std::vector<int> indices(32);
  for (int i = 0; i < 32; ++i) indices[i] = i;
  ThreadPool pool(2);
  // BatchGradient makes the panels for its batch and drops them after it.
  BatchGradient gradient(config, 32, 2);
  gradient.compute(pool, params, LossWeights{}, data, indices.data(), 5);
  CHECK(params.views().core_rec.W_panels == nullptr);
  CHECK(params.views().core_rec.Wt_panels == nullptr);
  const Parameters plain(params);
  params.refresh_panels();
  const RamParams& v = params.views();
  REQUIRE(v.core_in.W_panels != nullptr);  // 4H = 1024 outputs
  REQUIRE(v.core_rec.W_panels != nullptr);
  REQUIRE(v.core_rec.Wt_panels != nullptr);
  REQUIRE(v.join.Wt_panels != nullptr);
  REQUIRE(v.join.W_panels != nullptr);   // 256 outputs: from 128 on
  CHECK(v.action.W_panels == nullptr);   // 10 outputs: not worth a copy
  CHECK(v.action.Wt_panels == nullptr);
  // The glimpse network's first two layers have 128 outputs, so W gets its
  // copy; no product forms dy W^T on them (their inputs, the patches and the
  // location, are not trained), so W^T gets none.
  CHECK(v.what.W_panels != nullptr);
  CHECK(v.what.Wt_panels == nullptr);
  CHECK(v.where.Wt_panels == nullptr);
  CHECK(plain.views().core_rec.Wt_panels == nullptr);
  Episode ep(config, 32);
  ep.resize(32);
  for (int j = 0; j < 32; ++j) {
    ep.images[j] = data.image(j);
    ep.labels[j] = data.labels[j];
  }
  Rng rng(3);
  for (std::size_t i = 0; i < ep.noise.size(); ++i) ep.noise[i] = static_cast<real>(rng.normal());
  Parameters with_panels(config), without(config);
  std::vector<real> logp_with, logp_without;
  for (Parameters* grads : {&with_panels, &without}) {
    const Parameters& weights = grads == &with_panels ? params : plain;
    grads->zero();
    episode_forward(weights, ep, Locations::sample);
    (grads == &with_panels ? logp_with : logp_without).assign(ep.logp.data(), ep.logp.data() + ep.logp.size());
    episode_rewards(ep);
    episode_backward(weights, *grads, ep, LossWeights{}, 32);
  }
  CHECK(logp_with == logp_without);  // the forward: the same sums, the same bits
  double largest = 0, worst = 0;
  for (std::size_t i = 0; i < with_panels.size(); ++i) {
    largest = std::max(largest, std::fabs(static_cast<double>(without.data()[i])));
    worst = std::max(worst, std::fabs(static_cast<double>(with_panels.data()[i]) - without.data()[i]));
  }
  CHECK(largest > 0);
  CHECK(worst <= 1e-5 * largest);  // float rounding of a different summation order
  // A refresh after the weights change copies the new weights: W[3, 70] of
  // the recurrent weights [256, 1024] is in W's panel 1 (columns 64..127),
  // row 3, column 6; in W^T's panel 0 (columns 0..63 of W^T [1024, 256]),
  // row 70, column 3.
  const LinearParams& rec = params.views().core_rec;
  rec.W[3 * rec.out + 70] = 0.75f;
  params.refresh_panels();
  CHECK(rec.W_panels[64 * rec.in + 3 * 64 + 6] == 0.75f);
  CHECK(rec.Wt_panels[70 * 64 + 3] == 0.75f);
  // Filled in three parts, in any order, the copies are the same.
  Parameters in_parts(params);
  in_parts.lay_out_panels();
  for (int part : {2, 0, 1}) in_parts.fill_panels(part, 3);
  int differ = 0, compared = 0;
  for (const LayerSpec& layer : params.layers()) {
    CAPTURE(layer.name);
    const LinearParams& one = params.views().*layer.view;
    const LinearParams& three = in_parts.views().*layer.view;
    const std::size_t size = static_cast<std::size_t>(one.in) * one.out;
    REQUIRE((one.W_panels == nullptr) == (three.W_panels == nullptr));
    REQUIRE((one.Wt_panels == nullptr) == (three.Wt_panels == nullptr));
    for (std::size_t i = 0; i < size; ++i) {
      if (one.W_panels) differ += three.W_panels[i] != one.W_panels[i];
      if (one.Wt_panels) differ += three.Wt_panels[i] != one.Wt_panels[i];
      compared += (one.W_panels != nullptr) + (one.Wt_panels != nullptr);
    }
  }
  CHECK(compared > 4 * 256 * 1024);
  CHECK(differ == 0);
  params.drop_panels();
  CHECK(rec.W_panels == nullptr);
  CHECK(rec.Wt_panels == nullptr);
}

TEST_CASE("training: the sharded batch gradient is one episode over the whole batch") {
  // Each image's terms carry weight 1/batch whatever shard computed them, so
  // cutting the batch into shards changes nothing but the order of sums.
  ModelConfig config;
  config.glimpses = 3;
  config.hidden = config.glimpse_hidden = 64;
  const Dataset data = random_images(40, 14);
  Parameters params(config);
  params.init_uniform(6, 0.3);
  const int B = 12;
  std::vector<int> indices(B);
  for (int i = 0; i < B; ++i) indices[i] = (3 * i + 1) % 40;
  const uint64_t noise_key = 77;
  ThreadPool pool(2);
  BatchGradient sharded(config, B, 3);
  const EpisodeLoss sharded_loss = sharded.compute(pool, params, LossWeights{}, data, indices.data(), noise_key);

  Episode ep(config, B);
  ep.resize(B);
  for (int j = 0; j < B; ++j) {
    ep.images[j] = data.image(indices[j]);
    ep.labels[j] = data.labels[indices[j]];
    Rng rng(mix_key(noise_key, j));
    for (int s = 0; s < config.glimpses; ++s)
      for (int d = 0; d < 2; ++d)
        ep.noise[(static_cast<std::size_t>(s) * ep.capacity + j) * 2 + d] = static_cast<real>(rng.normal());
  }
  Parameters whole(config);
  whole.zero();
  episode_forward(params, ep, Locations::sample);
  episode_rewards(ep);
  const EpisodeLoss whole_loss = episode_backward(params, whole, ep, LossWeights{}, B);

  CHECK(sharded_loss.nll == doctest::Approx(whole_loss.nll).epsilon(1e-5));
  CHECK(sharded_loss.reinforce == doctest::Approx(whole_loss.reinforce).epsilon(1e-5));
  CHECK(sharded_loss.baseline == doctest::Approx(whole_loss.baseline).epsilon(1e-5));
  CHECK(sharded_loss.reward == doctest::Approx(whole_loss.reward).epsilon(1e-6));
  CHECK(sharded_loss.correct == whole_loss.correct);
  double scale = 0;
  for (std::size_t i = 0; i < whole.size(); ++i) scale = std::max(scale, std::fabs(double(whole.data()[i])));
  REQUIRE(scale > 0);
  double worst = 0;
  for (std::size_t i = 0; i < whole.size(); ++i)
    worst = std::max(worst, std::fabs(double(sharded.grads().data()[i]) - whole.data()[i]) / scale);
  CHECK(worst < 1e-5);
}

TEST_CASE("optimizer: five steps of SGD (dampening apart from momentum) and Adam against the textbook rules") {
  // The references run in double from the rules as their papers write them.
  const double grads[5][2] = {{2, -1}, {-0.5, 3}, {1, 1}, {4, -2}, {-3, 0.25}};
  const double rates[5] = {0.1, 0.08, 0.06, 0.04, 0.02};
  {
    // SGD, v = M v + (1 - D) g, theta -= lr v, with M = 0.8, D = 0.3.
    OptimizerConfig c;
    c.kind = OptimizerKind::sgd;
    c.momentum = 0.8;
    c.dampening = 0.3;
    Optimizer sgd(c, 2);
    real theta[2] = {1, -1};
    double ref[2] = {1, -1}, v[2] = {0, 0};
    for (int k = 0; k < 5; ++k) {
      real g[2] = {real(grads[k][0]), real(grads[k][1])};
      sgd.step(theta, g, rates[k]);
      for (int i = 0; i < 2; ++i) {
        v[i] = 0.8 * v[i] + 0.7 * grads[k][i];
        ref[i] -= rates[k] * v[i];
      }
      CAPTURE(k);
      CHECK(theta[0] == doctest::Approx(ref[0]).epsilon(1e-6));
      CHECK(theta[1] == doctest::Approx(ref[1]).epsilon(1e-6));
    }
  }
  {
    // Adam (Kingma and Ba 2015, algorithm 1) with beta1 0.9, beta2 0.999.
    OptimizerConfig c;
    c.kind = OptimizerKind::adam;
    Optimizer adam(c, 2);
    real theta[2] = {1, -1};
    double ref[2] = {1, -1}, m[2] = {0, 0}, v[2] = {0, 0};
    for (int k = 0; k < 5; ++k) {
      real g[2] = {real(grads[k][0]), real(grads[k][1])};
      adam.step(theta, g, rates[k]);
      for (int i = 0; i < 2; ++i) {
        m[i] = 0.9 * m[i] + 0.1 * grads[k][i];
        v[i] = 0.999 * v[i] + 0.001 * grads[k][i] * grads[k][i];
        const double m_hat = m[i] / (1 - std::pow(0.9, k + 1)), v_hat = v[i] / (1 - std::pow(0.999, k + 1));
        ref[i] -= rates[k] * m_hat / (std::sqrt(v_hat) + 1e-8);
      }
      CAPTURE(k);
      CHECK(theta[0] == doctest::Approx(ref[0]).epsilon(1e-6));
      CHECK(theta[1] == doctest::Approx(ref[1]).epsilon(1e-6));
    }
  }
}

TEST_CASE("optimizer: every branch of the learning-rate schedule") {
  OptimizerConfig c;
  c.lr = 0.01;
  c.min_lr = 0.002;
  c.decay_epochs = 4;
  // Falling: lr + (min_lr - lr) * epoch / decay_epochs, from lr at epoch 0.
  CHECK(learning_rate_at(c, 0) == doctest::Approx(0.01));
  CHECK(learning_rate_at(c, 1) == doctest::Approx(0.008));
  CHECK(learning_rate_at(c, 3) == doctest::Approx(0.004));
  // At and past the end of the decay: the floor.
  CHECK(learning_rate_at(c, 4) == doctest::Approx(0.002));
  CHECK(learning_rate_at(c, 9) == doctest::Approx(0.002));
  // A floor above the rate: the rate stays where it starts.
  c.min_lr = 0.05;
  CHECK(learning_rate_at(c, 0) == doctest::Approx(0.01));
  CHECK(learning_rate_at(c, 3) == doctest::Approx(0.01));
  // No decay: the rate throughout.
  c.min_lr = 0.002;
  c.decay_epochs = 0;
  CHECK(learning_rate_at(c, 7) == doctest::Approx(0.01));
}

TEST_CASE("training: train() clips each batch gradient and steps at the epoch's decayed rate") {
  // One step an epoch (the batch is the whole training split), plain SGD
  // without momentum, and a gradient-norm ceiling far below the gradient's
  // norm: each epoch then moves the weights by exactly lr_epoch * ceiling.
  // The rate falls from 0.01 to 0.005 between the two epochs.
  TempDir data_dir, one, two;
  write_fake_mnist(data_dir, 10050, 20, 10050);
  auto config = [&](const std::string& out, int epochs) {
    TrainConfig c = small_run(data_dir.path(), out, epochs);
    c.batch = 50;
    c.optimizer.kind = OptimizerKind::sgd;
    c.optimizer.lr = 0.01;
    c.optimizer.min_lr = 0;
    c.optimizer.decay_epochs = 2;
    c.optimizer.momentum = 0;
    c.optimizer.dampening = 0;
    c.clip_norm = 1e-3;
    return c;
  };
  train(config(one.path(), 1), false, "one epoch");
  train(config(two.path(), 2), false, "two epochs");
  Parameters initial(config("", 1).model);
  initial.init_uniform(config("", 1).seed);
  const Checkpoint after_one = load_checkpoint(one.file("last.bin"));
  const Checkpoint after_two = load_checkpoint(two.file("last.bin"));
  auto distance = [](const std::vector<float>& a, const real* b) {
    double squares = 0;
    for (std::size_t i = 0; i < a.size(); ++i) squares += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    return std::sqrt(squares);
  };
  // Ratios, as doctest's Approx is absolute near zero.
  CHECK(distance(after_one.params, initial.data()) / (0.01 * 1e-3) == doctest::Approx(1).epsilon(1e-3));
  std::vector<real> first(after_one.params.begin(), after_one.params.end());
  CHECK(distance(after_two.params, first.data()) / (0.005 * 1e-3) == doctest::Approx(1).epsilon(1e-3));
}

TEST_CASE("training: --epochs 0 is refused, and a damaged metrics.csv is refused by line on resume") {
  TempDir data_dir, run;
  write_fake_mnist(data_dir, 10050, 20, 10050);
  CHECK_THROWS_WITH_AS(train(small_run(data_dir.path(), run.path(), 0), false, "none"),
                       doctest::Contains("--epochs 0"), std::invalid_argument);
  train(small_run(data_dir.path(), run.path(), 1), false, "first");
  std::ofstream(run.file("metrics.csv"), std::ios::app) << "99999999999999999999,0.1,1,1,1,1,1,1,1\n";
  const std::string error = error_of([&] { train(small_run(data_dir.path(), run.path(), 2), true, "resumed"); });
  CHECK(contains(error, "metrics.csv: line 3: field 'epoch' is '99999999999999999999'"));
}
