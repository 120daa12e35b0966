/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder: being written */
typedef int tcw_placeholder_hello_t;
