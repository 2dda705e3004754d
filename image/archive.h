/*
 * image/archive.h - libarchive, loaded on first use.
 *
 * libarchive pulls in a dozen libraries (libxml2, ICU, libstdc++, ...)
 * whose loading and relocation cost every `moat` process about 1.8 ms,
 * while only load, demo-image and first-time layer extraction need it. So
 * the binary does not link it: this header maps each libarchive function
 * moat uses to a pointer filled by dlopen("libarchive.so.13") the first
 * time any of them is called. Include it instead of <archive.h>.
 *
 * The library is loaded before any container exists and never inside one
 * (no dlopen after entering a root: CVE-2019-14271).
 */
#ifndef MOAT_IMAGE_ARCHIVE_H
#define MOAT_IMAGE_ARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

#include "common/err.h"

#define MOAT_ARCHIVE_FUNCS(X)                    \
	X(archive_entry_atime)                   \
	X(archive_entry_atime_is_set)            \
	X(archive_entry_atime_nsec)              \
	X(archive_entry_filetype)                \
	X(archive_entry_free)                    \
	X(archive_entry_gid)                     \
	X(archive_entry_hardlink)                \
	X(archive_entry_hardlink_utf8)           \
	X(archive_entry_mtime)                   \
	X(archive_entry_mtime_is_set)            \
	X(archive_entry_mtime_nsec)              \
	X(archive_entry_new)                     \
	X(archive_entry_pathname)                \
	X(archive_entry_pathname_utf8)           \
	X(archive_entry_perm)                    \
	X(archive_entry_set_filetype)            \
	X(archive_entry_set_gid)                 \
	X(archive_entry_set_hardlink)            \
	X(archive_entry_set_mtime)               \
	X(archive_entry_set_pathname)            \
	X(archive_entry_set_perm)                \
	X(archive_entry_set_rdev)                \
	X(archive_entry_set_size)                \
	X(archive_entry_set_symlink)             \
	X(archive_entry_set_uid)                 \
	X(archive_entry_size)                    \
	X(archive_entry_size_is_set)             \
	X(archive_entry_symlink)                 \
	X(archive_entry_symlink_utf8)            \
	X(archive_entry_uid)                     \
	X(archive_entry_xattr_add_entry)         \
	X(archive_entry_xattr_next)              \
	X(archive_entry_xattr_reset)             \
	X(archive_errno)                         \
	X(archive_error_string)                  \
	X(archive_read_data)                     \
	X(archive_read_data_block)               \
	X(archive_read_free)                     \
	X(archive_read_new)                      \
	X(archive_read_next_header)              \
	X(archive_read_open)                     \
	X(archive_read_open_fd)                  \
	X(archive_read_support_filter_gzip)      \
	X(archive_read_support_filter_zstd)      \
	X(archive_read_support_format_raw)       \
	X(archive_read_support_format_tar)       \
	X(archive_set_error)                     \
	X(archive_write_add_filter_gzip)         \
	X(archive_write_close)                   \
	X(archive_write_data)                    \
	X(archive_write_free)                    \
	X(archive_write_header)                  \
	X(archive_write_new)                     \
	X(archive_write_open)                    \
	X(archive_write_set_bytes_in_last_block) \
	X(archive_write_set_format_pax_restricted)

struct moat_archive_api {
#define MOAT_ARCHIVE_PTR(name) __typeof__(name) *name;
	MOAT_ARCHIVE_FUNCS(MOAT_ARCHIVE_PTR)
#undef MOAT_ARCHIVE_PTR
};

extern struct moat_archive_api moat_archive;

/* Loads libarchive once; 0 or a negative errno with ERR naming what is
 * missing. Entry points call it so a missing library is a clear error. */
int image_archive_load(struct err **err);
/* For the call sites below: loads, or reports and exits 125 if it cannot
 * (the equivalent of the dynamic linker failing at start-up). */
const struct moat_archive_api *image_archive_api(void);

#ifndef MOAT_ARCHIVE_IMPL
/* From here on, every use of a libarchive function goes through the table. */
#define archive_entry_atime (image_archive_api()->archive_entry_atime)
#define archive_entry_atime_is_set (image_archive_api()->archive_entry_atime_is_set)
#define archive_entry_atime_nsec (image_archive_api()->archive_entry_atime_nsec)
#define archive_entry_filetype (image_archive_api()->archive_entry_filetype)
#define archive_entry_free (image_archive_api()->archive_entry_free)
#define archive_entry_gid (image_archive_api()->archive_entry_gid)
#define archive_entry_hardlink (image_archive_api()->archive_entry_hardlink)
#define archive_entry_hardlink_utf8 (image_archive_api()->archive_entry_hardlink_utf8)
#define archive_entry_mtime (image_archive_api()->archive_entry_mtime)
#define archive_entry_mtime_is_set (image_archive_api()->archive_entry_mtime_is_set)
#define archive_entry_mtime_nsec (image_archive_api()->archive_entry_mtime_nsec)
#define archive_entry_new (image_archive_api()->archive_entry_new)
#define archive_entry_pathname (image_archive_api()->archive_entry_pathname)
#define archive_entry_pathname_utf8 (image_archive_api()->archive_entry_pathname_utf8)
#define archive_entry_perm (image_archive_api()->archive_entry_perm)
#define archive_entry_set_filetype (image_archive_api()->archive_entry_set_filetype)
#define archive_entry_set_gid (image_archive_api()->archive_entry_set_gid)
#define archive_entry_set_hardlink (image_archive_api()->archive_entry_set_hardlink)
#define archive_entry_set_mtime (image_archive_api()->archive_entry_set_mtime)
#define archive_entry_set_pathname (image_archive_api()->archive_entry_set_pathname)
#define archive_entry_set_perm (image_archive_api()->archive_entry_set_perm)
#define archive_entry_set_rdev (image_archive_api()->archive_entry_set_rdev)
#define archive_entry_set_size (image_archive_api()->archive_entry_set_size)
#define archive_entry_set_symlink (image_archive_api()->archive_entry_set_symlink)
#define archive_entry_set_uid (image_archive_api()->archive_entry_set_uid)
#define archive_entry_size (image_archive_api()->archive_entry_size)
#define archive_entry_size_is_set (image_archive_api()->archive_entry_size_is_set)
#define archive_entry_symlink (image_archive_api()->archive_entry_symlink)
#define archive_entry_symlink_utf8 (image_archive_api()->archive_entry_symlink_utf8)
#define archive_entry_uid (image_archive_api()->archive_entry_uid)
#define archive_entry_xattr_add_entry (image_archive_api()->archive_entry_xattr_add_entry)
#define archive_entry_xattr_next (image_archive_api()->archive_entry_xattr_next)
#define archive_entry_xattr_reset (image_archive_api()->archive_entry_xattr_reset)
#define archive_errno (image_archive_api()->archive_errno)
#define archive_error_string (image_archive_api()->archive_error_string)
#define archive_read_data (image_archive_api()->archive_read_data)
#define archive_read_data_block (image_archive_api()->archive_read_data_block)
#define archive_read_free (image_archive_api()->archive_read_free)
#define archive_read_new (image_archive_api()->archive_read_new)
#define archive_read_next_header (image_archive_api()->archive_read_next_header)
#define archive_read_open (image_archive_api()->archive_read_open)
#define archive_read_open_fd (image_archive_api()->archive_read_open_fd)
#define archive_read_support_filter_gzip (image_archive_api()->archive_read_support_filter_gzip)
#define archive_read_support_filter_zstd (image_archive_api()->archive_read_support_filter_zstd)
#define archive_read_support_format_raw (image_archive_api()->archive_read_support_format_raw)
#define archive_read_support_format_tar (image_archive_api()->archive_read_support_format_tar)
#define archive_set_error (image_archive_api()->archive_set_error)
#define archive_write_add_filter_gzip (image_archive_api()->archive_write_add_filter_gzip)
#define archive_write_close (image_archive_api()->archive_write_close)
#define archive_write_data (image_archive_api()->archive_write_data)
#define archive_write_free (image_archive_api()->archive_write_free)
#define archive_write_header (image_archive_api()->archive_write_header)
#define archive_write_new (image_archive_api()->archive_write_new)
#define archive_write_open (image_archive_api()->archive_write_open)
#define archive_write_set_bytes_in_last_block \
	(image_archive_api()->archive_write_set_bytes_in_last_block)
#define archive_write_set_format_pax_restricted \
	(image_archive_api()->archive_write_set_format_pax_restricted)
#endif /* MOAT_ARCHIVE_IMPL */

#endif
