// model.h: the Recurrent Attention Model's configuration, and the index of
// its parts in the order the papers introduce them.
//
// Papers: V. Mnih, N. Heess, A. Graves, K. Kavukcuoglu, "Recurrent Models of
// Visual Attention", NIPS 2014 ("RAM" below, section 3 is the model), and
// E. Brooks, L. DeLuccia, E. Inglett, "Applying Active Learning to Recurrent
// Attentive Models" ("seed" below).
//
// Conventions: every batch buffer is row-major [B, ...] with an explicit row
// stride (`ld*`, in elements) so that layers can read and write column blocks
// of a wider buffer without copies. Backward functions ADD into parameter
// gradients (+=): weight gradients then sum over the T glimpses by themselves,
// and one zero_grad per training step resets them.
#pragma once

// The index, in the order the papers introduce the parts; each header sits
// beside the .cpp that implements it, forward and backward side by side:
//
//   step.h              one glimpse as named views             RAM fig. 1
//   glimpse_sensor.h    rho(x_t, l_{t-1}): the retina          RAM 3.1
//   glimpse_network.h   f_g: g_t from the patches and l        RAM 3.1, fig. 1B
//   core.h              f_h: the choice of core                RAM 3.1, seed 2.3
//   core_rnn.h          f_h: the plain RNN core                RAM 3.1
//   lstm.h              one LSTM step (core and locator)       seed 2.3
//   core_lstm.h         f_h: the LSTM core                     seed 2.3
//   location_network.h  f_l: the mean, and drawing l_t         RAM 3.1
//   action_network.h    f_a: the classifier                    RAM 3.1
//   rewards.h           r_t and R_t; the seed's extra rewards  RAM 3.2, seed eq. 2
//   baseline.h          b_t, the variance-reducing baseline    RAM 3.2
//   reinforce.h         the hybrid loss; REINFORCE's gradient  RAM 3.2, seed eq. 1
//   ram.h               the episode: T glimpses unrolled       RAM 3, fig. 1
//   parameters.h        every weight in one flat buffer
//   linear.h            the affine layer and relu they share

// Configuration: the architecture, as saved in checkpoints.

enum class CoreKind { rnn, lstm, gru };
enum class LocatorKind { linear, lstm };
// Where the sensor looks: where the location policy sends it, or at places
// drawn uniformly from [-1, 1]^2 (the RAM paper's control on 60x60
// cluttered MNIST, "8 random glimpses": 14.4 % error). A model that looks at
// random places has no policy to train: the episode's backward then leaves
// out REINFORCE and the baseline (ram.cpp).
enum class LocationSource { policy, random };
// The REINFORCE baseline (baseline.h): b_t read from h_{t-1} (the PyTorch
// code, ours), or one learned constant for every t (the Torch code).
enum class BaselineKind { state, constant };
// The [., H] column blocks of the core's W_in and W_rec (the RNN's 1, the
// LSTM's 4 gates), and the core's name in messages: core.cpp's table.
int core_weight_blocks(CoreKind kind);
const char* core_name(CoreKind kind);

struct ModelConfig {
  // The images.
  int channels = 1;   // C
  int height = 28;    // image rows
  int width = 28;     // image columns
  int classes = 10;   // A
  // Glimpse sensor (RAM section 3.1, "glimpse sensor"; Torch defaults).
  int glimpses = 7;         // T: glimpses per image
  int patch = 8;            // P: side of the smallest patch, in pixels
  int scales = 1;           // K: patches per glimpse, each `glimpse_scale` times wider
  int glimpse_scale = 2;    // width ratio of successive patches
  double unit_pixels = 13;  // pixels from the image centre to a location of 1
  // Layer widths (RAM section 4; Torch code).
  int what_hidden = 128;    // h_g: features of the retina patches
  int where_hidden = 128;   // h_l: features of the location
  int glimpse_hidden = 256; // g_t: the glimpse vector
  int hidden = 256;         // H: core state h_t
  // Location policy (RAM section 3.1, "location network").
  double sigma = 0.22;      // standard deviation of the Gaussian policy (Torch code)
  CoreKind core = CoreKind::rnn;
  LocatorKind locator = LocatorKind::linear;
  LocationSource locations = LocationSource::policy;
  BaselineKind baseline = BaselineKind::state;

  int glimpse_features() const { return scales * channels * patch * patch; }  // G
  // Whether the images (channels, height, width) and classes agree with other's.
  bool same_images(const ModelConfig& other) const {
    return channels == other.channels && height == other.height && width == other.width && classes == other.classes;
  }
  // Throws std::invalid_argument naming the first field out of range.
  void validate() const;
};
