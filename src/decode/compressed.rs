//! Symphonia-backed decoding for FLAC, AIFF, Ogg Vorbis, MP3 and the rest.
