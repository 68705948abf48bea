// model.h: the Recurrent Attention Model's parts, declared in the order the
// paper introduces them. Each group below lives in the source file it names,
// with forward and backward side by side.
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

#include <cstdint>
#include <string>
#include <vector>

#include "dataset.h"
#include "tensor.h"

// ---------------------------------------------------------------------------
// Configuration: the architecture, as saved in checkpoints.

enum class CoreKind { rnn, lstm };
enum class LocatorKind { linear, lstm };

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

  int glimpse_features() const { return scales * channels * patch * patch; }  // G
  // Whether the images (channels, height, width) and classes agree with other's.
  bool same_images(const ModelConfig& other) const {
    return channels == other.channels && height == other.height && width == other.width && classes == other.classes;
  }
  // Throws std::invalid_argument naming the first field out of range.
  void validate() const;
};

// ---------------------------------------------------------------------------
// Parameters: one contiguous buffer, with named views (parameters.cpp).
// A gradient buffer has the very same layout, so the optimizer, checkpoints
// and the finite-difference checks each walk one flat array.

// y[B, out] = x[B, in] W[in, out] + b[out]
struct LinearParams {
  real* W = nullptr;  // [in, out]
  real* b = nullptr;  // [out], or nullptr for a layer without bias
  int in = 0, out = 0;
  // Copies in column panels (gemm.h), or nullptr. Parameters::refresh_panels
  // writes them for the wide layers: W_panels holds W, for the forward
  // y = x W; Wt_panels holds W^T, so that the backward pass's dx = dy W^T
  // runs as a plain product (the fastest GEMM form) instead of dot products.
  const real* W_panels = nullptr;
  const real* Wt_panels = nullptr;
};

struct RamParams {
  LinearParams what;       // glimpse network: rho -> h_g       W [G, 128]
  LinearParams where;      // glimpse network: l -> h_l         W [2, 128]
  LinearParams join;       // glimpse network: [h_g, h_l] -> g  W [256, 256]
  LinearParams core_in;    // core: g_t -> h_t                  W [256, H]  (LSTM: [256, 4H])
  LinearParams core_rec;   // core: h_{t-1} -> h_t (no bias)    W [H, H]    (LSTM: [H, 4H])
  LinearParams locator;    // location network: h -> mu         W [H, 2]    (LSTM: [H, 8])
  LinearParams locator_rec;  // LSTM locator only (no bias)     W [2, 8]
  LinearParams action;     // action network: h_T -> logits     W [H, A]
  LinearParams baseline;   // baseline: h -> b                  W [H, 1]
};

// A named slice of the flat buffer, for messages and tests.
struct ParamBlock {
  std::string name;
  std::size_t offset, size;
};

class Parameters {
 public:
  explicit Parameters(const ModelConfig& config);
  Parameters(const Parameters& other);
  Parameters& operator=(const Parameters&) = delete;
  std::size_t size() const { return flat_.size(); }
  real* data() { return flat_.data(); }
  const real* data() const { return flat_.data(); }
  RamParams& views() { return views_; }
  const RamParams& views() const { return views_; }
  const std::vector<ParamBlock>& blocks() const { return blocks_; }
  // Torch's initialisation: every weight and bias uniform in [-0.1, 0.1];
  // an LSTM core's forget-gate bias then starts at 1.
  void init_uniform(uint64_t seed, double range = 0.1);
  const ModelConfig& config() const { return config_; }
  void zero() { flat_.zero(); }
  // Copies W into column panels for every layer with out >=
  // kForwardPanelMinOut and W^T for every layer with out >=
  // kBackwardPanelMinOut, and points the views' W_panels and Wt_panels at
  // them. The copies are right only until the weights change:
  // BatchGradient::compute makes them before a batch and drops them after
  // it, the evaluator makes its own. Without them (a fresh or copied
  // Parameters, or after drop_panels) the products read W as stored; the
  // forward gives the same bits either way, the backward the same sums up to
  // rounding.
  void refresh_panels() {
    lay_out_panels();
    fill_panels(0, 1);
  }
  // refresh_panels in two steps, so that threads can share the copying:
  // lay_out_panels sizes the buffer and points the views at it, then
  // fill_panels(part, parts) for every part in [0, parts), on any threads at
  // once, copies every parts-th strip from the part-th on.
  void lay_out_panels();
  void fill_panels(int part, int parts);
  void drop_panels();
  // Measured on Zen 4 (gemm.h): forward panels pay from rows of 1024 floats
  // (the LSTM core's 4H) and gain nothing on 256; the transposed copy pays
  // from 128 outputs, where the product it replaces would run on dot tiles.
  static constexpr int kForwardPanelMinOut = 512;
  static constexpr int kBackwardPanelMinOut = 128;

 private:
  void lay_out(const ModelConfig& config);
  ModelConfig config_;
  Tensor flat_;
  Tensor panels_;  // the W_panels and Wt_panels copies, when refreshed
  RamParams views_;
  std::vector<ParamBlock> blocks_;
};

// ---------------------------------------------------------------------------
// Building blocks shared by the components (linear.cpp).

void linear_forward(int B, const real* x, int ldx, const LinearParams& p, real* y, int ldy);
// y = x W, or y += x W if accumulate: the product alone, on W's panels when
// they are made.
void linear_multiply(int B, const real* x, int ldx, const LinearParams& p, real* y, int ldy, bool accumulate);
// Forward was y = x W + b. Adds dW += x^T dy and db += sum_rows dy; writes
// dx = dy W^T when dx is given (adds into it if accumulate_dx).
void linear_backward(int B, const real* x, int ldx, const real* dy, int lddy,
                     const LinearParams& p, const LinearParams& grad,
                     real* dx, int lddx, bool accumulate_dx);
// dx = dy W^T alone (adding into dx if accumulate_dx): the input's share of
// linear_backward, for callers that sum the weights' share separately.
void linear_backward_input(int B, const real* dy, int lddy, const LinearParams& p, real* dx, int lddx,
                           bool accumulate_dx);
void relu_forward(int B, int n, real* y, int ldy);
// Forward was y = max(0, a): da = dy where y > 0, else 0 (in place on dy).
void relu_backward(int B, int n, const real* y, int ldy, real* dy, int lddy);

// ---------------------------------------------------------------------------
// Glimpse sensor rho(x_t, l_{t-1}) (glimpse_sensor.cpp; RAM section 3.1).
// No backward: the sensor is not differentiable in l and the paper does not
// ask it to be; the locations are trained by REINFORCE alone.

// The square patch s (0..K-1) of a glimpse at location (x, y): its top-left
// pixel and its side P * glimpse_scale^s, in image pixels (it may reach
// past the image's edge).
struct PatchBox {
  int x0, y0, side;
};
PatchBox glimpse_patch_box(const ModelConfig& config, double x, double y, int s);
// rho [B, G] for images[b] (each [C, H, W] bytes) at locations l [B, 2].
void glimpse_sensor(const ModelConfig& config, int B, const uint8_t* const* images,
                    const real* l, real* rho);

// ---------------------------------------------------------------------------
// Glimpse network f_g (glimpse_network.cpp; RAM section 3.1, figure 1B).
//   h_g = relu(rho W_what + b),  h_l = relu(l W_where + b)
//   g   = relu([h_g, h_l] W_join + b)

struct GlimpseActivations {
  real* hcat;  // [B, 256]: h_g in columns 0..127, h_l in 128..255
  real* g;     // [B, 256]
};
void glimpse_network_forward(const ModelConfig& config, const RamParams& p, int B,
                             const real* rho, const real* l, GlimpseActivations out);
// dg [B, 256] is overwritten (it becomes the gradient at the pre-activation);
// dhcat [B, 256] is scratch.
void glimpse_network_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad,
                              int B, const real* rho, const real* l, GlimpseActivations act,
                              real* dg, real* dhcat);

// ---------------------------------------------------------------------------
// Core network f_h, a plain RNN (core_rnn.cpp; RAM section 3.1; Torch nn.Recurrent).
//   h_t = relu(g_t W_in + b + h_{t-1} W_rec),  h_0 = 0

void core_rnn_forward(const RamParams& p, int B, int H, const real* g, const real* h_prev,
                      real* h);
// dh [B, H] is overwritten (gradient at the pre-activation). Writes dg;
// adds into dh_prev unless it is nullptr (t = 1, where h_0 is a constant).
void core_rnn_backward(const RamParams& p, const RamParams& grad, int B, int H,
                       const real* g, const real* h_prev, const real* h, real* dh,
                       real* dg, real* dh_prev);

// ---------------------------------------------------------------------------
// One LSTM step (core_lstm.cpp), shared by the LSTM core and the LSTM locator.
//   z = x W_in + b + h_{t-1} W_rec;  i, f, o = sigmoid, u = tanh of its blocks
//   c_t = f c_{t-1} + i u,  h_t = o tanh(c_t)
// x == nullptr stands for an input of zeros; h_prev, c_prev == nullptr for
// the zero state of t = 1.

void lstm_forward(const LinearParams& in, const LinearParams& rec, int B, int H, const real* x, int ldx,
                  const real* h_prev, const real* c_prev, real* gates, real* c, real* h);
// dh: dL/dh_t; dc: dL/dc_t from later steps, overwritten with the full
// dL/dc_t. Writes dx (adding if accumulate_dx) and dc_prev, adds into dh_prev
// (each skipped when nullptr). dz [B, 4H] receives dL/dz_t. lstm_backward is
// lstm_backward_data (the gate gradients and the inputs' share) then
// lstm_weight_gradients (the weights' share).
void lstm_backward_data(const LinearParams& in, const LinearParams& rec, int B, int H, const real* c_prev,
                        const real* gates, const real* c, const real* dh, real* dc, real* dz, real* dx, int lddx,
                        bool accumulate_dx, real* dh_prev, real* dc_prev);
void lstm_weight_gradients(const LinearParams& in, const LinearParams& rec, const LinearParams& grad_in,
                           const LinearParams& grad_rec, int B, int H, const real* x, int ldx, const real* h_prev,
                           const real* dz);
void lstm_backward(const LinearParams& in, const LinearParams& rec, const LinearParams& grad_in,
                   const LinearParams& grad_rec, int B, int H, const real* x, int ldx, const real* h_prev,
                   const real* c_prev, const real* gates, const real* c, const real* dh, real* dc, real* dz,
                   real* dx, int lddx, bool accumulate_dx, real* dh_prev, real* dc_prev);

// ---------------------------------------------------------------------------
// Core network f_h as an LSTM (core_lstm.cpp; seed section 2.3).
//   z = g_t W_in + b + h_{t-1} W_rec;  i, f, o = sigmoid, u = tanh of its blocks
//   c_t = f c_{t-1} + i u,  h_t = o tanh(c_t),  h_0 = c_0 = 0

// gates [B, 4H] holds i, f, o, u after their nonlinearities.
void core_lstm_forward(const RamParams& p, int B, int H, const real* g, const real* h_prev,
                       const real* c_prev, real* gates, real* c, real* h);
// dh: dL/dh_t; dc: dL/dc_t from later steps, overwritten with the full
// dL/dc_t. Writes dg and dc_prev, adds into dh_prev (both skipped when
// nullptr, at t = 1). dz [B, 4H] scratch.
void core_lstm_backward(const RamParams& p, const RamParams& grad, int B, int H, const real* g,
                        const real* h_prev, const real* c_prev, const real* gates, const real* c,
                        const real* dh, real* dc, real* dz, real* dg, real* dh_prev, real* dc_prev);
// The same split in two, as the episode runs it: per step the data part
// (dz [B, 4H] of the step kept), then once the weights' share summed over
// all T steps: g [T, cap, 256], h [T, cap, H], dz [T, cap, 4H].
void core_lstm_backward_data(const RamParams& p, int B, int H, const real* c_prev, const real* gates, const real* c,
                             const real* dh, real* dc, real* dz, real* dg, real* dh_prev, real* dc_prev);
void core_lstm_weight_gradients(const RamParams& p, const RamParams& grad, int T, int B, int cap, int H,
                                const real* g, const real* h, const real* dz);

// ---------------------------------------------------------------------------
// Location network f_l and its Gaussian policy (location_network.cpp; RAM
// section 3.1, seed equation 1).
//   mu_t = hardtanh(h_{t-1} W_loc + b),  l_raw ~ N(mu_t, sigma^2 I),
//   l_t  = clamp(l_raw, -1, 1)

// mu_pre, mu [B, 2]. When noise is given ([B, 2] standard normals) writes
// l_raw = mu + sigma * noise and l = clamp(l_raw); without noise l = l_raw = mu
// (evaluation uses the mean, as the Torch code does).
void location_network_forward(const ModelConfig& config, const RamParams& p, int B, int H,
                              const real* h_prev, const real* noise, real* mu_pre, real* mu,
                              real* l_raw, real* l);
// The seed's LSTM locator: mu_pre = LSTM(h_prev) with a two-unit state
// (loc_h_prev = the previous step's mu_pre, loc_c_prev), gates [B, 8], loc_c [B, 2].
void location_lstm_forward(const ModelConfig& config, const RamParams& p, int B, int H,
                           const real* h_prev, const real* loc_h_prev, const real* loc_c_prev,
                           const real* noise, real* loc_gates, real* loc_c, real* mu_pre, real* mu,
                           real* l_raw, real* l);
// log pi(l_raw | mu) of one image, a 2-d isotropic Gaussian.
double gaussian_log_prob(const real* l_raw, const real* mu, double sigma);
// The REINFORCE term for one step: loss = -sum_b weight_b * log pi(l_raw_b | mu_b)
// with weight_b a constant (the scaled advantage). Adds its gradient into the
// locator's parameters and into dh_prev (unless nullptr). dmu [B, 2] scratch.
void location_network_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad,
                               int B, int H, const real* h_prev, const real* mu_pre,
                               const real* mu, const real* l_raw, const real* weight,
                               real* dmu, real* dh_prev);

// The REINFORCE term for the LSTM locator. dloc_h, dloc_c [B, 2] arrive with
// what the locator's later steps sent back; the step's score gradient is
// added to dloc_h. Adds into dh_prev and dloc_h_prev, writes dloc_c_prev
// (each skipped when nullptr). dloc_z [B, 8], dmu [B, 2] scratch.
void location_lstm_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, int B,
                            int H, const real* h_prev, const real* loc_h_prev, const real* loc_c_prev,
                            const real* loc_gates, const real* loc_c, const real* mu_pre, const real* mu,
                            const real* l_raw, const real* weight, real* dloc_h, real* dloc_c,
                            real* dloc_z, real* dmu, real* dh_prev, real* dloc_h_prev,
                            real* dloc_c_prev);

// ---------------------------------------------------------------------------
// Action network f_a (action_network.cpp; RAM section 3.1).
//   logp = log_softmax(h W_a + b)

void action_network_forward(const RamParams& p, int B, int H, int A, const real* h, real* logp);
// In place, each of B rows of A values: z -> z - log sum exp(z).
void log_softmax_rows(int B, int A, real* logp);
// Loss = sum_b weight * -logp[b, label_b]; adds its gradient into the action
// parameters and into dh. Returns the loss. dlogits [B, A] scratch.
double action_network_nll_backward(const RamParams& p, const RamParams& grad, int B, int H, int A,
                                   const real* h, const real* logp, const uint8_t* labels,
                                   double weight, real* dlogits, real* dh);

// ---------------------------------------------------------------------------
// Baseline b_t (baseline.cpp; RAM section 3.2, variance reduction).
//   b_t = h_{t-1} w_b + c, trained by (R_t - b_t)^2, with h_{t-1} a constant.

void baseline_forward(const RamParams& p, int B, int H, const real* h_prev, real* b);
// Loss = weight * sum_b (b_b - R_b)^2; adds its gradient into the baseline's
// parameters only. Returns the loss. db [B] scratch.
double baseline_backward(const RamParams& p, const RamParams& grad, int B, int H,
                         const real* h_prev, const real* b, const real* R, double weight,
                         real* db);
