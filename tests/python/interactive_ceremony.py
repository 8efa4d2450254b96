"""Drive `rstuf admin ceremony --interactive` (ours) through a real pseudo
terminal with pexpect, answering every prompt as an administrator would,
including a wrong answer, a wrong password (typed without echo) and the
right one. Prints a JSON report; exits non-zero with the terminal
transcript when the dialogue goes wrong.

usage: interactive_ceremony.py RSTUF_BIN SERVER ALICE_PEM BOB_PEM CAROL_PUB ONLINE_PUB OUT PASSWORD
"""
import json, sys

import pexpect

rstuf, server, alice, bob, carol_pub, online_pub, out, password = sys.argv[1:9]
child = pexpect.spawn(rstuf, ["--api-server", server, "admin", "ceremony", "--interactive"],
                      encoding="utf-8", timeout=60, dimensions=(50, 200))
log = []
child.logfile_read = type("L", (), {"write": lambda _, d: log.append(d), "flush": lambda _: None})()


def answer(prompt, text):
    child.expect_exact(prompt)
    child.sendline(text)


try:
    answer("How many root keys [2]: ", "1")          # refused: at least 2
    child.expect_exact("from 2 to 50")
    answer("How many root keys [2]: ", "3")
    answer("threshold, at least 2) [2]: ", "")
    answer("Root key 1: PEM file (public or private): ", alice)
    answer("Root key 1: name [", "")
    answer("Root key 2: PEM file (public or private): ", bob + ".pub")
    answer("Root key 2: name [", "bob")
    answer("Root key 3: PEM file (public or private): ", carol_pub)
    answer("Root key 3: name [", "carol")
    answer("Online key: PEM public key file: ", online_pub)
    answer("Online key URI", "")
    answer("Artifact layout", "")
    answer("Number of hash bins (a power of two, 2 to 16384) [256]: ", "12")  # refused
    child.expect_exact("power of two")
    answer("Number of hash bins (a power of two, 2 to 16384) [256]: ", "16")
    for role in ("root", "timestamp", "snapshot", "targets", "bins"):
        answer(f"Days until {role} metadata expires [", "")
    answer("Sign with a root private key file now (empty when done) []: ", alice)
    answer("Sign with a root private key file now (empty when done) []: ", bob)
    answer(f"Password for {bob}: ", "not the password")
    child.expect_exact("wrong password")
    answer(f"Password for {bob}: ", password)
    answer("Sign with a root private key file now (empty when done) []: ", "")
    answer("Write the payload to [ceremony-payload.json]: ", out)
    answer(f"Send it to {server} now [n]: ", "y")
    child.expect(pexpect.EOF, timeout=120)
except pexpect.ExceptionPexpect as e:
    sys.exit(f"the interactive ceremony did not go as expected ({type(e).__name__}); "
             f"terminal so far:\n{''.join(log)[-4000:]}")
finally:
    child.close()
transcript = "".join(log)
if child.exitstatus != 0:
    sys.exit(f"rstuf exited {child.exitstatus}:\n{transcript[-4000:]}")
if password in transcript:
    sys.exit("the password was echoed to the terminal")
print(json.dumps({"exit": child.exitstatus, "transcript": transcript}))
