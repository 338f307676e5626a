//! RIFF / RF64 / BW64 chunk walker and PCM decoder (the fast path for film stems).
