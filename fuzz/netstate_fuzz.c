/*
 * fuzz/netstate_fuzz.c - the decoder of a running container's net.json
 * (engine_net_state_decode): what `moat port`, `ps`, `inspect` and the
 * crash cleanup read back. An error always says why and leaves nothing;
 * a success has bounded fields (ports in range, strings terminated).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/netrun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine_net_state st;
	struct err *e = NULL;

	if (engine_net_state_decode((const char *)data, size, &st, &e) < 0) {
		if (!e || e->code == 0 || st.ports || st.n_ports)
			abort();
		err_free(&e);
		return 0;
	}
	if (strlen(st.network_id) != 64 || strlen(st.ip) >= sizeof(st.ip) || st.prefix > 128)
		abort();
	for (size_t i = 0; i < st.n_ports; i++)
		if (!st.ports[i].host_port || !st.ports[i].ctr_port || st.ports[i].fd != -1)
			abort();
	engine_net_state_free(&st);
	return 0;
}
