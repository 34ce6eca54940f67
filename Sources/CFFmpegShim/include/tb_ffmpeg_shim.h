/* FFmpeg's function-like macros and constants that Swift cannot import. */
#ifndef TB_FFMPEG_SHIM_H
#define TB_FFMPEG_SHIM_H
#include <stdint.h>

int tb_averror(int posix_errno);      /* AVERROR(e) */
int tb_averror_eof(void);             /* AVERROR_EOF */
int tb_averror_eagain(void);          /* AVERROR(EAGAIN) */
int64_t tb_av_nopts_value(void);      /* AV_NOPTS_VALUE */
int tb_av_time_base(void);            /* AV_TIME_BASE */
/* av_err2str without the compound literal: writes into buf, returns buf. */
const char *tb_av_strerror(int errnum, char *buf, int size);

#endif
