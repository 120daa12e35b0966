/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder: being written */
typedef int tcw_placeholder_jsonrpc_t;
