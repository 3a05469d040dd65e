"""A process's CPU time from /proc/PID/stat, for the Python bench clients."""
import os


def cpu_seconds(pid) -> float:
    """User + system CPU time that process `pid` has used so far, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
