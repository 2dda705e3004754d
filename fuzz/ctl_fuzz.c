/*
 * fuzz/ctl_fuzz.c - the control-socket message decoder (ctl_decode): what
 * a container's monitor reads from any process of its user. A decoded
 * message must encode back to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char again[CTL_MSG_MAX];
	struct ctl_msg m;
	struct err *e = NULL;
	size_t n;

	if (ctl_decode(data, size, &m, &e) < 0) {
		if (!e)
			abort();
		err_free(&e);
		return 0;
	}
	if (m.type < CTL_OK || m.type >= CTL_TYPE_MAX || m.len > CTL_PAYLOAD_MAX ||
	    m.data != (const char *)data + CTL_HDR_LEN)
		abort();
	n = ctl_encode(again, m.type, m.a, m.b, m.data, m.len);
	if (n != size || memcmp(again, data, size) != 0)
		abort();
	return 0;
}
