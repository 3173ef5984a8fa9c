// A second non-root login whose sudo asks for a password (the lab's `deploy` has NOPASSWD), for
// `become_password` and `--ask-become-pass`. Like `deploy` it is a user of this machine, so every lab
// host has it; its home is the machine's /home/<user>, where its authorized_keys live. Idempotent.
import { sh, shq } from "./exec.js";

export const PASSWORD_SUDO_USER = "pwsudo";

export async function ensurePasswordSudoUser(password: string, authorizedKey: string): Promise<void> {
  const user = PASSWORD_SUDO_USER;
  await sh(`
    id -u ${user} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash ${user}
    printf '%s:%s\\n' ${user} ${shq(password)} | chpasswd
    install -d -m 0700 -o ${user} -g ${user} /home/${user}/.ssh
    printf '%s\\n' ${shq(authorizedKey)} > /home/${user}/.ssh/authorized_keys
    chown ${user}:${user} /home/${user}/.ssh/authorized_keys && chmod 0600 /home/${user}/.ssh/authorized_keys
    f=/etc/sudoers.d/provision-lab-${user}
    printf '%s\\n' '${user} ALL=(ALL:ALL) ALL' > "$f.tmp.$$"
    chmod 0440 "$f.tmp.$$"
    visudo -cqf "$f.tmp.$$"
    mv "$f.tmp.$$" "$f"
  `);
}
