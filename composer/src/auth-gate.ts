import { reactive } from 'vue';

/**
 * The login dialog that appears over whatever the user is doing when the session has expired.
 * Requests wait here and are sent again once the user has logged in, so nothing typed is lost.
 */
export const gate = reactive({ open: false, code: '' });

let waiters: (() => void)[] = [];

/** Shows the login dialog and resolves once the user has logged in again. */
export function awaitLogin(code: string): Promise<void> {
  gate.open = true;
  gate.code = code;
  return new Promise((resolve) => waiters.push(resolve));
}

/** Called by the dialog after a successful login: the waiting requests go again. */
export function loginRestored(): void {
  gate.open = false;
  const ready = waiters;
  waiters = [];
  for (const resolve of ready) resolve();
}
