"""The layers of DeepFilterNet3's graphs in NumPy, batched over the frames of a chunk.

Feature maps are laid out ``(n_frames, n_freqs, n_channels)`` (time, frequency,
channels: the graphs' NCHW transposed), so that a 1x1 convolution is one
matrix product and a depthwise one is a few broadcast products. Weights keep
the ONNX layouts (``(out, in / groups, k_time, k_freq)`` for convolutions).

Convolutions that look back in time (the graphs pad the time axis with
``kernel - 1`` zero frames in front: causal) take the previous chunk's last
``kernel - 1`` input frames as ``history``, which the caller carries; the
frequency axis is zero-padded by one bin on each side, as the graphs do.
The GRU follows ONNX's ``GRU`` operator with ``linear_before_reset=1``
(gates z, r, h); its input projection runs for all frames at once and only
the recurrence goes frame by frame.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "GRU",
    "causal_conv_3x3",
    "causal_conv_time",
    "conv_kernel_matrix",
    "depthwise_conv_freq",
    "depthwise_conv_transpose_freq",
    "grouped_linear",
    "pointwise_conv",
    "relu",
]


def relu(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)`` in place; returns ``x``."""
    return np.maximum(x, 0, out=x)


def pointwise_conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """1x1 convolution over channels.

    Parameters
    ----------
    x : np.ndarray [shape=(n_frames, n_freqs, c_in), dtype=float32]
    kernel : np.ndarray [shape=(1, 1, c_in, c_out), dtype=float32]
        From :func:`conv_kernel_matrix`.
    bias : np.ndarray [shape=(c_out,), dtype=float32] or None

    Returns
    -------
    np.ndarray [shape=(n_frames, n_freqs, c_out), dtype=float32]
    """
    out = x @ kernel[0, 0]
    if bias is not None:
        out += bias
    return out


def conv_kernel_matrix(weight: np.ndarray, groups: int) -> np.ndarray:
    """A grouped convolution's weights as one dense matrix over all input channels.

    Parameters
    ----------
    weight : np.ndarray [shape=(c_out, c_in // groups, k_time, k_freq), dtype=float32]
        ONNX layout; output channel ``o`` reads the inputs of group ``o // (c_out // groups)``.
    groups : int

    Returns
    -------
    np.ndarray [shape=(k_time, k_freq, c_in, c_out), dtype=float32]
        Zero where an output channel does not read an input channel.
    """
    c_out, c_group, k_time, k_freq = weight.shape
    out_group = c_out // groups
    dense = np.zeros((k_time, k_freq, c_group * groups, c_out), dtype=np.float32)
    for g in range(groups):
        block = weight[g * out_group : (g + 1) * out_group].transpose(2, 3, 1, 0)
        dense[:, :, g * c_group : (g + 1) * c_group, g * out_group : (g + 1) * out_group] = block
    return dense


def causal_conv_3x3(x: np.ndarray, history: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """3x3 convolution looking two frames back, for few input channels (as one matrix product).

    Parameters
    ----------
    x : np.ndarray [shape=(n_frames, n_freqs, c_in), dtype=float32]
    history : np.ndarray [shape=(2, n_freqs, c_in), dtype=float32]
        The two input frames before ``x`` (zeros at the start of a stream).
    kernel : np.ndarray [shape=(3, 3, c_in, c_out), dtype=float32]
        From :func:`conv_kernel_matrix`; index 2 of the first axis weighs the current frame.
    bias : np.ndarray [shape=(c_out,), dtype=float32] or None

    Returns
    -------
    np.ndarray [shape=(n_frames, n_freqs, c_out), dtype=float32]
        Output frame ``t`` from input frames ``t - 2 .. t``.
    """
    n_frames, n_freqs, c_in = x.shape
    padded = np.zeros((n_frames + 2, n_freqs + 2, c_in), dtype=np.float32)
    padded[:2, 1:-1] = history
    padded[2:, 1:-1] = x
    patches = np.empty((n_frames, n_freqs, 3, 3, c_in), dtype=np.float32)
    for kt in range(3):
        for kf in range(3):
            patches[:, :, kt, kf] = padded[kt : kt + n_frames, kf : kf + n_freqs]
    out = patches.reshape(n_frames, n_freqs, 9 * c_in) @ kernel.reshape(9 * c_in, -1)
    if bias is not None:
        out += bias
    return out


def causal_conv_time(x: np.ndarray, history: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """Convolution along time only (kernel ``(k, 1)``), looking ``k - 1`` frames back.

    Parameters
    ----------
    x : np.ndarray [shape=(n_frames, n_freqs, c_in), dtype=float32]
    history : np.ndarray [shape=(k - 1, n_freqs, c_in), dtype=float32]
        The input frames before ``x``.
    kernel : np.ndarray [shape=(k, 1, c_in, c_out), dtype=float32]
        From :func:`conv_kernel_matrix`; index ``k - 1`` weighs the current frame.
    bias : np.ndarray [shape=(c_out,), dtype=float32] or None

    Returns
    -------
    np.ndarray [shape=(n_frames, n_freqs, c_out), dtype=float32]
    """
    n_frames = x.shape[0]
    k, _, c_in, c_out = kernel.shape
    padded = np.concatenate([history, x], axis=0)
    # Every tap's contribution of every frame in one product, then shifted and summed.
    taps = padded @ kernel[:, 0].transpose(1, 0, 2).reshape(c_in, k * c_out)
    out = taps[:n_frames, :, :c_out].copy()
    for j in range(1, k):
        out += taps[j : j + n_frames, :, j * c_out : (j + 1) * c_out]
    if bias is not None:
        out += bias
    return out


def depthwise_conv_freq(x: np.ndarray, weight: np.ndarray, stride: int) -> np.ndarray:
    """Depthwise convolution along frequency, kernel 3, one bin of zero padding each side.

    Parameters
    ----------
    x : np.ndarray [shape=(n_frames, n_freqs, n_channels), dtype=float32]
    weight : np.ndarray [shape=(n_channels, 1, 1, 3), dtype=float32]
    stride : int
        1, or 2 to halve the bins (``n_freqs`` even).

    Returns
    -------
    np.ndarray [shape=(n_frames, n_freqs // stride, n_channels), dtype=float32]
        Bin ``j`` is ``x[s*j - 1] * w[0] + x[s*j] * w[1] + x[s*j + 1] * w[2]`` (zero outside).
    """
    taps = weight[:, 0, 0, :]
    if stride == 1:
        out = x * taps[:, 1]
        out[:, 1:] += x[:, :-1] * taps[:, 0]
        out[:, :-1] += x[:, 1:] * taps[:, 2]
        return out
    n_frames, n_freqs, n_channels = x.shape
    pairs = x.reshape(n_frames, n_freqs // 2, 2, n_channels)
    even, odd = pairs[:, :, 0], pairs[:, :, 1]
    out = even * taps[:, 1]
    out += odd * taps[:, 2]
    out[:, 1:] += odd[:, :-1] * taps[:, 0]
    return out


def depthwise_conv_transpose_freq(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Depthwise transposed convolution along frequency: kernel 3, stride 2, padding 1, output padding 1.

    Output bin ``2m`` is ``x[m] * w[1]``; bin ``2m + 1`` is ``x[m] * w[2] + x[m + 1] * w[0]``
    (``x[n_freqs]`` being zero).

    Parameters
    ----------
    x : np.ndarray [shape=(n_frames, n_freqs, n_channels), dtype=float32]
    weight : np.ndarray [shape=(n_channels, 1, 1, 3), dtype=float32]

    Returns
    -------
    np.ndarray [shape=(n_frames, 2 * n_freqs, n_channels), dtype=float32]
    """
    n_frames, n_freqs, n_channels = x.shape
    taps = weight[:, 0, 0, :]
    out = np.empty((n_frames, n_freqs, 2, n_channels), dtype=np.float32)
    np.multiply(x, taps[:, 1], out=out[:, :, 0])
    np.multiply(x, taps[:, 2], out=out[:, :, 1])
    out[:, :-1, 1] += x[:, 1:] * taps[:, 0]
    return out.reshape(n_frames, 2 * n_freqs, n_channels)


def grouped_linear(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Grouped linear layer (the graphs' ``einsum('btgi,gih->btgh')``), without bias.

    Parameters
    ----------
    x : np.ndarray [shape=(n_frames, groups * n_in), dtype=float32]
    weight : np.ndarray [shape=(groups, n_in, n_out), dtype=float32]

    Returns
    -------
    np.ndarray [shape=(n_frames, groups * n_out), dtype=float32]
    """
    groups, n_in, n_out = weight.shape
    n_frames = x.shape[0]
    out = np.matmul(x.reshape(n_frames, groups, n_in).transpose(1, 0, 2), weight)
    return out.transpose(1, 0, 2).reshape(n_frames, groups * n_out)


class GRU:
    """One ONNX ``GRU`` layer (forward, ``linear_before_reset=1``, gates z, r, h).

    ``z = sigmoid(W_z x + R_z h + b_z)``, ``r = sigmoid(W_r x + R_r h + b_r)``,
    ``n = tanh(W_h x + Wb_h + r * (R_h h + Rb_h))``, ``h' = (1 - z) n + z h``.

    The input projections ``W x + b`` run for all frames at once; the
    recurrence is one matrix-vector product and a few vector operations per
    frame. The sigmoids are computed as ``(1 + tanh(a / 2)) / 2``; the halving
    is folded into the weights (an exact scaling), and ``Rb_h`` rides on a
    constant one appended to the state.

    Parameters
    ----------
    W : np.ndarray [shape=(1, 3 * hidden, n_in), dtype=float32]
    R : np.ndarray [shape=(1, 3 * hidden, hidden), dtype=float32]
    B : np.ndarray [shape=(1, 6 * hidden), dtype=float32]
        ``[Wb_z, Wb_r, Wb_h, Rb_z, Rb_r, Rb_h]``.
    """

    def __init__(self, W: np.ndarray, R: np.ndarray, B: np.ndarray) -> None:
        hidden = R.shape[2]
        self.hidden = hidden
        half = np.full(3 * hidden, 0.5, dtype=np.float32)
        half[2 * hidden :] = 1.0
        w_bias, r_bias = B[0, : 3 * hidden], B[0, 3 * hidden :]
        self.w_in = np.ascontiguousarray((W[0] * half[:, None]).T)
        self.b_in = np.concatenate([w_bias[: 2 * hidden] + r_bias[: 2 * hidden], w_bias[2 * hidden :]]) * half
        # Rows: the state, then the constant one; columns: z and r (halved), then h (halved for r's (1 + tanh)).
        self.r_aug = np.zeros((hidden + 1, 3 * hidden), dtype=np.float32)
        self.r_aug[:hidden] = R[0].T * np.float32(0.5)
        self.r_aug[hidden, 2 * hidden :] = r_bias[2 * hidden :] * np.float32(0.5)

    def __call__(self, x: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Run over consecutive frames.

        Parameters
        ----------
        x : np.ndarray [shape=(n_frames, n_in), dtype=float32]
        h : np.ndarray [shape=(hidden,), dtype=float32]
            The state before the first frame; updated in place to the state after the last.

        Returns
        -------
        np.ndarray [shape=(n_frames, hidden), dtype=float32]
            The state after each frame.
        """
        hidden, n_frames = self.hidden, x.shape[0]
        projected = x @ self.w_in
        projected += self.b_in
        proj_zr, proj_h = projected[:, : 2 * hidden], projected[:, 2 * hidden :]
        states = np.empty((n_frames + 1, hidden + 1), dtype=np.float32)
        states[:, hidden] = 1.0
        states[0, :hidden] = h
        state_h = states[:, :hidden]
        recurrent = np.empty(3 * hidden, dtype=np.float32)
        gates = np.empty(2 * hidden, dtype=np.float32)
        candidate = np.empty(hidden, dtype=np.float32)
        blend = np.empty(hidden, dtype=np.float32)
        rec_zr, rec_h = recurrent[: 2 * hidden], recurrent[2 * hidden :]
        gate_z, gate_r = gates[:hidden], gates[hidden:]
        r_aug = self.r_aug
        dot, add, multiply, subtract, tanh = np.dot, np.add, np.multiply, np.subtract, np.tanh
        for t in range(n_frames):
            dot(states[t], r_aug, out=recurrent)
            add(rec_zr, proj_zr[t], out=gates)
            tanh(gates, out=gates)
            gates += 1.0  # now 2 z and 2 r
            multiply(gate_r, rec_h, out=candidate)
            candidate += proj_h[t]
            tanh(candidate, out=candidate)
            subtract(state_h[t], candidate, out=blend)
            blend *= gate_z
            blend *= 0.5
            add(blend, candidate, out=state_h[t + 1])
        h[:] = state_h[n_frames]
        return state_h[1:]
