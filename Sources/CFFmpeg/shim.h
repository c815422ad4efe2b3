#ifndef LOUPE_CFFMPEG_SHIM_H
#define LOUPE_CFFMPEG_SHIM_H

// FFmpeg 5.1 from Debian's libavformat-dev, libavcodec-dev, libavutil-dev and libswscale-dev.
// Swift cannot see function-like macros (AVERROR, MKTAG, av_err2str), so the helpers below expose them.
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <errno.h>

static inline int loupe_averror_eof(void) { return AVERROR_EOF; }
static inline int loupe_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int loupe_averror_enomem(void) { return AVERROR(ENOMEM); }
static inline int loupe_averror_einval(void) { return AVERROR(EINVAL); }
static inline int loupe_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int loupe_averror_patchwelcome(void) { return AVERROR_PATCHWELCOME; }
static inline int loupe_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int loupe_averror_encoder_not_found(void) { return AVERROR_ENCODER_NOT_FOUND; }
static inline int loupe_averror_demuxer_not_found(void) { return AVERROR_DEMUXER_NOT_FOUND; }
static inline int loupe_averror_stream_not_found(void) { return AVERROR_STREAM_NOT_FOUND; }

/// Writes FFmpeg's text for `code` into `buffer` (at least AV_ERROR_MAX_STRING_SIZE bytes).
static inline void loupe_av_strerror(int code, char *buffer, size_t size) {
    if (av_strerror(code, buffer, size) < 0) snprintf(buffer, size, "FFmpeg error %d", code);
}

static inline int64_t loupe_av_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int loupe_av_time_base(void) { return AV_TIME_BASE; }

/// The rotation in degrees (counter-clockwise, as FFmpeg reports it) of a stream's display matrix, or NaN.
static inline double loupe_stream_rotation(const AVStream *stream) {
    size_t size = 0;
    const uint8_t *matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (matrix == NULL || size < 9 * sizeof(int32_t)) return 0.0 / 0.0;
    return av_display_rotation_get((const int32_t *)matrix);
}

/// Silences FFmpeg's own logging: Loupe reports problems through its errors.
static inline void loupe_av_quiet(void) { av_log_set_level(AV_LOG_QUIET); }

static inline int loupe_set_option_int(void *object, const char *name, int64_t value) {
    return av_opt_set_int(object, name, value, 0);
}

static inline int loupe_set_option(void *object, const char *name, const char *value) {
    return av_opt_set(object, name, value, AV_OPT_SEARCH_CHILDREN);
}

#endif
