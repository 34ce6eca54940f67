#include "tb_ffmpeg_shim.h"
#include <errno.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <stdio.h>

int tb_averror(int posix_errno) { return AVERROR(posix_errno); }
int tb_averror_eof(void) { return AVERROR_EOF; }
int tb_averror_eagain(void) { return AVERROR(EAGAIN); }
int64_t tb_av_nopts_value(void) { return AV_NOPTS_VALUE; }
int tb_av_time_base(void) { return AV_TIME_BASE; }
const char *tb_av_strerror(int errnum, char *buf, int size) {
    if (av_strerror(errnum, buf, (size_t)size) < 0)
        snprintf(buf, (size_t)size, "unknown error %d", errnum);
    return buf;
}
