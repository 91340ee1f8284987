"""Run the book's sweeps on a SLURM cluster through dask-jobqueue (``pip install dask-jobqueue``).

Start this on the cluster's login node; it submits one SLURM job per worker (one GPU each) and prints
the scheduler address. Then, from the same node:

    make book PRESET=paper SCHEDULER=tcp://<address printed below>

Edit the queue, account and resources for your site. Each worker runs one task (one batch of configs)
at a time on one GPU; results come back to the notebook process, which alone writes the cache.
"""

import time

from dask_jobqueue import SLURMCluster
from distributed import Client

cluster = SLURMCluster(
    queue="gpu",  # your partition
    account="my-account",  # your allocation
    cores=4,
    processes=1,  # one worker process per job
    memory="32GB",
    walltime="12:00:00",
    job_extra_directives=["--gres=gpu:1"],
    worker_extra_args=["--resources", "GPU=1", "--nthreads", "1"],
)
cluster.scale(jobs=8)  # eight GPUs
client = Client(cluster)
print(f"scheduler: {cluster.scheduler_address}", flush=True)
while True:  # keep the cluster alive while the book runs; Ctrl-C to release the jobs
    time.sleep(60)
