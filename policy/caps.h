/*
 * policy/caps.h - PURE: capability names and numbers (linux/capability.h),
 * shared by seccomp profiles (includes/excludes.caps) and --cap-add/drop.
 */
#ifndef MOAT_POLICY_CAPS_H
#define MOAT_POLICY_CAPS_H

/* "CAP_NET_RAW" or "net_raw" -> 13; -1 when unknown. */
int policy_cap_from_name(const char *name);
/* 13 -> "NET_RAW"; "?" when out of range. */
const char *policy_cap_name(int cap);

#endif
