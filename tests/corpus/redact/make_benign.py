#!/usr/bin/env python3
"""Writes benign.txt beside this script: realistic log lines without secrets (deterministic: seeded).

The lines follow the formats of the 16 systems of the public Loghub collection (HDFS, Hadoop,
Spark, Zookeeper, BGL, HPC, Thunderbird, Windows CBS, Linux syslog, Android, HealthApp, Apache,
Proxifier, OpenSSH, OpenStack, macOS) and of the identifiers that made the default rules fire on
real logs (issue 16): HDFS block ids (signed 64-bit, `blk_-6952295868487656571`), Hadoop job /
container / attempt ids, Android framework dumps (`token=Token{a64f992 ...}`,
`android.os.BinderProxy@2bd79ce`), signed longs in Java logs, W3C trace ids, snowflake ids.
No line holds a secret: the default redaction rules must change at most 0.01 % of them
(tests/unit/test_redact_corpus.c).

usage: make_benign.py [LINES_PER_SYSTEM]   (default 1250: 20,000 lines, 17 kinds; committed)
"""
import os
import random
import sys

R = random.Random(20261128)
HEX = "0123456789abcdef"
AL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
LOW = "abcdefghijklmnopqrstuvwxyz"


def s(al, n):
    return "".join(R.choice(al) for _ in range(n))


def ip10():
    return "10.%d.%d.%d" % (R.randint(0, 255), R.randint(0, 255), R.randint(1, 254))


def ipx():
    return "%d.%d.%d.%d" % (R.randint(1, 223), R.randint(0, 255), R.randint(0, 255), R.randint(1, 254))


def slong():
    """a Java long as logs print it: uniform over the signed 64-bit range"""
    return R.randint(-(2**63), 2**63 - 1)


def hms():
    return "%02d%02d%02d" % (R.randint(0, 23), R.randint(0, 59), R.randint(0, 59))


def blk():
    return "blk_%d" % slong()


def hdfs():
    d = "0811%02d %s %d" % (R.randint(9, 11), hms(), R.randint(1, 9999))
    b = blk()
    c = R.randint(0, 7)
    if c == 0:
        return "%s INFO dfs.DataNode$PacketResponder: PacketResponder %d for block %s terminating" % (d, R.randint(0, 2), b)
    if c == 1:
        return "%s INFO dfs.DataNode$PacketResponder: Received block %s of size %d from /%s" % (
            d, b, R.choice([67108864, R.randint(1000, 67108864)]), ip10())
    if c == 2:
        return "%s INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: %s:50010 is added to %s size %d" % (
            d, ip10(), b, R.randint(1000, 67108864))
    if c == 3:
        return "%s INFO dfs.DataNode$DataXceiver: Receiving block %s src: /%s:%d dest: /%s:50010" % (
            d, b, ip10(), R.randint(30000, 60000), ip10())
    if c == 4:
        return "%s INFO dfs.FSNamesystem: BLOCK* NameSystem.allocateBlock: /user/root/rand/_temporary/_task_200811092030_0001_m_%06d_0/part-%05d. %s" % (
            d, R.randint(0, 999), R.randint(0, 999), b)
    if c == 5:
        return "%s INFO dfs.FSDataset: Deleting block %s file /mnt/hadoop/dfs/data/current/subdir%d/%s" % (d, b, R.randint(0, 63), b)
    if c == 6:
        return "%s INFO dfs.FSNamesystem: BLOCK* ask %s:50010 to replicate %s to datanode(s) %s:50010" % (d, ip10(), b, ip10())
    return "%s WARN dfs.DataNode$DataXceiver: %s:50010:Got exception while serving %s to /%s:" % (d, ip10(), b, ip10())


APP_TS = 1445144423722


def hadoop():
    t = "2015-10-18 18:%02d:%02d,%03d" % (R.randint(0, 59), R.randint(0, 59), R.randint(0, 999))
    job = "%d_%04d" % (APP_TS + R.randint(0, 10**6), R.randint(1, 9999))
    c = R.randint(0, 6)
    if c == 0:
        return "%s INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_%s_%06d" % (
            t, job, R.randint(1, 3))
    if c == 1:
        return "%s INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Executing with tokens:" % t
    if c == 2:
        return ("%s INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Kind: YARN_AM_RM_TOKEN, Service: , Ident: "
                "(appAttemptId { application_id { id: %d cluster_timestamp: %d } attemptId: %d } keyId: %d)") % (
            t, R.randint(1, 99), APP_TS, R.randint(1, 3), R.randint(-(2**31), 2**31 - 1))
    if c == 3:
        return "%s INFO [RMCommunicator Allocator] org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator: Assigned container container_%s_01_%06d to attempt_%s_m_%06d_0" % (
            t, job, R.randint(1, 99), job, R.randint(0, 99))
    if c == 4:
        return "%s INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Kind: mapreduce.job, Service: job_%s, Ident: (org.apache.hadoop.mapreduce.security.token.JobTokenIdentifier@%s)" % (
            t, job, s(HEX, 8))
    if c == 5:
        return "%s INFO [AsyncDispatcher event handler] org.apache.hadoop.mapreduce.v2.app.job.impl.TaskAttemptImpl: attempt_%s_r_%06d_0 TaskAttempt Transitioned from NEW to UNASSIGNED" % (
            t, job, R.randint(0, 99))
    return "%s WARN [LeaseRenewer:msrabi@msra-sa-41:9000] org.apache.hadoop.hdfs.LeaseRenewer: Failed to renew lease for [DFSClient_NONMAPREDUCE_%d_1] for %d seconds.  Will retry shortly ..." % (
        t, slong() % (2**31), R.randint(1, 900))


def spark():
    t = "17/06/%02d 20:%02d:%02d" % (R.randint(1, 30), R.randint(0, 59), R.randint(0, 59))
    c = R.randint(0, 6)
    if c == 0:
        return "%s INFO storage.BlockManager: Found block rdd_%d_%d locally" % (t, R.randint(0, 99), R.randint(0, 999))
    if c == 1:
        return "%s INFO storage.MemoryStore: Block broadcast_%d stored as values in memory (estimated size %.1f KB, free %.1f KB)" % (
            t, R.randint(0, 99), R.random() * 100, R.random() * 1000)
    if c == 2:
        return "%s INFO executor.Executor: Finished task %d.0 in stage %d.0 (TID %d). %d bytes result sent to driver" % (
            t, R.randint(0, 99), R.randint(0, 30), R.randint(0, 9999), R.randint(900, 3000))
    if c == 3:
        return "%s INFO spark.SecurityManager: Changing view acls to: yarn,curi" % t
    if c == 4:
        return "%s INFO executor.CoarseGrainedExecutorBackend: Got assigned task %d" % (t, R.randint(0, 99999))
    if c == 5:
        return "%s INFO spark.MapOutputTrackerWorker: Got the output locations; shuffle_%d_%d_%d, offset %d" % (
            t, R.randint(0, 9), R.randint(0, 99), R.randint(0, 99), slong())
    return "%s INFO storage.ShuffleBlockFetcherIterator: Started %d remote fetches in %d ms" % (t, R.randint(0, 9), R.randint(0, 99))


def zookeeper():
    t = "2015-07-29 17:%02d:%02d,%03d" % (R.randint(0, 59), R.randint(0, 59), R.randint(0, 999))
    sess = "0x%s" % s(HEX, 15)
    c = R.randint(0, 5)
    if c == 0:
        return "%s - INFO  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@197] - Accepted socket connection from /%s:%d" % (
            t, ip10(), R.randint(30000, 60000))
    if c == 1:
        return "%s - INFO  [CommitProcessor:1:ZooKeeperServer@595] - Established session %s with negotiated timeout 10000 for client /%s:%d" % (
            t, sess, ip10(), R.randint(30000, 60000))
    if c == 2:
        return "%s - INFO  [SessionTracker:ZooKeeperServer@325] - Expiring session %s, timeout of 10000ms exceeded" % (t, sess)
    if c == 3:
        return "%s - INFO  [ProcessThread(sid:3 cport:-1)::PrepRequestProcessor@476] - Processed session termination for sessionid: %s" % (t, sess)
    if c == 4:
        return "%s - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: %d" % (t, R.randint(200, 60000))
    return "%s - INFO  [QuorumPeer[myid=2]/0:0:0:0:0:0:0:0:2181:Learner@323] - Getting a snapshot from leader, zxid 0x%s, peerEpoch %d" % (
        t, s(HEX, 9), R.randint(1, 9))


def bgl():
    ep = 1117838570 + R.randint(0, 10**7)
    node = "R%02d-M%d-N%d-C:J%02d-U%02d" % (R.randint(0, 63), R.randint(0, 1), R.randint(0, 15), R.randint(2, 17), R.randint(1, 11))
    c = R.randint(0, 3)
    msg = ["instruction cache parity error corrected", "generating core.%d" % R.randint(0, 9999),
           "data TLB error interrupt", "ciod: failed to read message prefix on control stream (CioStream socket to %s:%d" % (
               ip10(), R.randint(30000, 60000))][c]
    return "- %d 2005.06.03 %s 2005-06-03-15.42.50.%06d %s RAS KERNEL INFO %s" % (ep, node, R.randint(0, 999999), node, msg)


def hpc():
    return "%d node-%d unix.hw state_change.unavailable %d 1 Component State Change: Component \\042alt0\\042 is in the unavailable state (HWID=%d)" % (
        R.randint(10000, 999999), R.randint(1, 400), 1077804742 + R.randint(0, 10**7), R.randint(1000, 9999))


def thunderbird():
    ep = 1131566461 + R.randint(0, 10**7)
    n = "dn%d" % R.randint(1, 999)
    c = R.randint(0, 2)
    msg = ["crond(pam_unix)[%d]: session closed for user root" % R.randint(100, 32000),
           "kernel: [KERNEL_IB][ib_mad_dispatch][/mnt_projects/sysapps/src/ib/topspin/topspin-src-3.2.0-16/ib/ts_api_ng/mad/obj_host_amd64_custom1_rhel4/ts_ib_mad/mad_filter.c:%d]Dispatch to callback failed" % R.randint(100, 999),
           "ntpd[%d]: synchronized to %s, stratum 2" % (R.randint(100, 32000), ipx())][c]
    return "- %d 2005.11.09 %s Nov 9 12:01:01 %s/%s %s" % (ep, n, n, n, msg)


def windows():
    t = "2016-09-28 04:%02d:%02d" % (R.randint(0, 59), R.randint(0, 59))
    c = R.randint(0, 3)
    if c == 0:
        return "%s, Info                  CBS    Loaded Servicing Stack v6.1.7601.23505 with Core: C:\\Windows\\winsxs\\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_6.1.7601.23505_none_681aa442f6fed7f0\\cbscore.dll" % t
    if c == 1:
        return "%s, Info                  CSI    %08x@2016/9/27:20:30:31.455 WcpInitialize (wcp.dll version 0.0.0.6) called (stack @0x7fed806eb5d @0x7fefa1c8728 @0x7fefa1c8856 @0xff83e474 @0xff83d7bd @0xff83db2f)" % (t, R.randint(0, 9999))
    if c == 2:
        return "%s, Info                  CBS    SQM: Initializing online with Windows opt-in: False" % t
    return "%s, Info                  CBS    Session: 30546173_%d initialized by client WindowsUpdateAgent." % (t, R.randint(10**8, 10**10))


def linux():
    t = "Jun %2d %02d:%02d:%02d" % (R.randint(1, 30), R.randint(0, 23), R.randint(0, 59), R.randint(0, 59))
    c = R.randint(0, 4)
    if c == 0:
        return "%s combo sshd(pam_unix)[%d]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=%s  user=root" % (
            t, R.randint(1000, 32000), ipx())
    if c == 1:
        return "%s combo su(pam_unix)[%d]: session opened for user cyrus by (uid=0)" % (t, R.randint(1000, 32000))
    if c == 2:
        return "%s combo ftpd[%d]: connection from %s () at Sat Jul  9 22:53:22 2005" % (t, R.randint(1000, 32000), ipx())
    if c == 3:
        return "%s combo kernel: Memory: %dk/%dk available (%dk kernel code, %dk reserved, %dk data, 144k init, 0k highmem)" % (
            t, R.randint(100000, 200000), R.randint(200000, 300000), R.randint(1000, 2000), R.randint(1000, 9000), R.randint(100, 900))
    return "%s combo kernel: [%5d.%06d] usb 1-%d: new high speed USB device using ehci_hcd and address %d" % (
        t, R.randint(0, 99999), R.randint(0, 999999), R.randint(1, 4), R.randint(1, 40))


PKGS = ["com.tencent.qt.qtl", "com.android.systemui", "com.tencent.mm", "com.whatsapp", "com.android.settings"]


def android():
    t = "03-17 16:%02d:%02d.%03d  %4d  %4d" % (R.randint(0, 59), R.randint(0, 59), R.randint(0, 999), R.randint(1000, 9999), R.randint(1000, 9999))
    h = lambda: s(HEX, R.choice([7, 7, 8]))
    pkg = R.choice(PKGS)
    c = R.randint(0, 8)
    if c == 0:
        return ("%s D WindowManager: printFreezingDisplayLogsopening app wtoken = AppWindowToken{%s token=Token{%s ActivityRecord{%s u0 "
                "%s/.activity.info.NewsDetailXmlActivity t%d}}}, allDrawn= false, startingDisplayed =  false, startingMoved =  false") % (
            t, h(), h(), h(), pkg, R.randint(1, 999))
    if c == 1:
        return "%s V WindowManager: Skipping AppWindowToken{%s token=Token{%s ActivityRecord{%s u0 %s/.PlayerActivity t%d}}} -- going to hide" % (
            t, h(), h(), h(), pkg, R.randint(1, 999))
    if c == 2:
        return "%s W ActivityManager: Bad activity token: android.os.BinderProxy@%s" % (t, h())
    if c == 3:
        return "%s D PowerManagerService: acquire lock=%d, flags=0x1, tag=\"View Lock\", name=%s, ws=null, uid=%d, pid=%d" % (
            t, R.randint(10**8, 10**9), pkg, R.randint(10000, 10999), R.randint(1000, 9999))
    if c == 4:
        return "%s I WindowManager: Relayout Window{%s u0 %s/%s.MainActivity}: oldVis=4 newVis=0 token=Token{%s ActivityRecord{%s u0 %s/.MainActivity t%d}}" % (
            t, h(), pkg, pkg, h(), h(), pkg, R.randint(1, 999))
    if c == 5:
        return "%s D ActivityManager: activityPaused token=android.os.BinderProxy@%s, state=PAUSING" % (t, h())
    if c == 6:
        return "%s I InputMethodManagerService: startInput: reason=WINDOW_FOCUS_GAIN client=android.os.BinderProxy@%s inputContext=null windowToken=android.os.BinderProxy@%s" % (
            t, h(), h())
    if c == 7:
        return "%s D TextView: visible is system.time.showampm" % t
    return "%s I ActivityManager: Displayed %s/.SplashActivity: +%dms token=null" % (t, pkg, R.randint(100, 3000))


def healthapp():
    t = "20171223-22:%02d:%02d:%03d" % (R.randint(0, 59), R.randint(0, 59), R.randint(0, 999))
    c = R.randint(0, 2)
    if c == 0:
        return "%s|Step_LSC|30002312|onStandStepChanged %d" % (t, R.randint(1000, 9999))
    if c == 1:
        return "%s|Step_SPUtils|30002312| getTodayTotalDetailSteps = %d##%d##%d##%d##%d##%d" % (
            t, 1514038440000 + R.randint(0, 10**6), R.randint(1000, 9999), R.randint(10**5, 10**6), R.randint(1000, 9999),
            R.randint(1000, 99999), R.randint(10**7, 10**8))
    return "%s|Step_StandReportReceiver|30002312|REPORT : %d %d %d %d" % (t, R.randint(1000, 9999), R.randint(100, 999), R.randint(100000, 999999), R.randint(1, 9))


def apache():
    t = "[Sun Dec %02d %02d:%02d:%02d 2005]" % (R.randint(1, 31), R.randint(0, 23), R.randint(0, 59), R.randint(0, 59))
    c = R.randint(0, 3)
    if c == 0:
        return "%s [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties" % t
    if c == 1:
        return "%s [error] mod_jk child workerEnv in error state %d" % (t, R.randint(6, 9))
    if c == 2:
        return "%s [error] [client %s] Directory index forbidden by rule: /var/www/html/" % (t, ipx())
    return "%s [notice] jk2_init() Found child %d in scoreboard slot %d" % (t, R.randint(1000, 32000), R.randint(0, 12))


def proxifier():
    t = "[10.30 16:%02d:%02d]" % (R.randint(0, 59), R.randint(0, 59))
    c = R.randint(0, 2)
    if c == 0:
        return "%s chrome.exe - proxy.cse.cuhk.edu.hk:5070 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS" % t
    if c == 1:
        return "%s chrome.exe - proxy.cse.cuhk.edu.hk:5070 close, %d bytes (%.2f KB) sent, %d bytes (%.2f KB) received, lifetime %02d:%02d" % (
            t, R.randint(0, 9999), R.random() * 9, R.randint(0, 99999), R.random() * 99, R.randint(0, 59), R.randint(0, 59))
    return "%s WeChat.exe *64 - short.weixin.qq.com:80 error : Could not connect through proxy proxy.cse.cuhk.edu.hk:5070 - Proxy server cannot establish a connection with the target, status code %d" % (
        t, R.choice([403, 502]))


def openssh():
    t = "Dec 10 %02d:%02d:%02d LabSZ sshd[%d]:" % (R.randint(0, 23), R.randint(0, 59), R.randint(0, 59), R.randint(1000, 32000))
    c = R.randint(0, 6)
    if c == 0:
        return "%s Failed password for invalid user %s from %s port %d ssh2" % (t, R.choice(["admin", "webmaster", "test", "oracle"]), ipx(), R.randint(1024, 65535))
    if c == 1:
        return "%s Failed password for root from %s port %d ssh2" % (t, ipx(), R.randint(1024, 65535))
    if c == 2:
        return "%s pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=%s  user=root" % (t, ipx())
    if c == 3:
        return "%s reverse mapping checking getaddrinfo for %s.example.net [%s] failed - POSSIBLE BREAK-IN ATTEMPT!" % (t, s(LOW, 8), ipx())
    if c == 4:
        return "%s Received disconnect from %s: 11: Bye Bye [preauth]" % (t, ipx())
    if c == 5:
        return "%s Accepted password for fztu from %s port %d ssh2" % (t, ipx(), R.randint(1024, 65535))
    return "%s message repeated %d times: [ Failed password for root from %s port %d ssh2]" % (t, R.randint(2, 5), ipx(), R.randint(1024, 65535))


def openstack():
    req = "req-%s-%s-%s-%s-%s" % (s(HEX, 8), s(HEX, 4), s(HEX, 4), s(HEX, 4), s(HEX, 12))
    u, p = s(HEX, 32), s(HEX, 32)
    t = "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:%02d:%02d.%03d %d" % (R.randint(0, 59), R.randint(0, 59), R.randint(0, 999), R.randint(20000, 30000))
    c = R.randint(0, 2)
    if c == 0:
        return '%s INFO nova.osapi_compute.wsgi.server [%s %s %s - - -] %s "GET /v2/%s/servers/detail HTTP/1.1" status: 200 len: %d time: %.7f' % (
            t, req, u, p, ip10(), p, R.randint(200, 3000), R.random())
    if c == 1:
        return "%s INFO nova.compute.manager [%s - - - - -] [instance: %s-%s-%s-%s-%s] VM Started (Lifecycle Event)" % (
            t, req, s(HEX, 8), s(HEX, 4), s(HEX, 4), s(HEX, 4), s(HEX, 12))
    return "%s INFO nova.virt.libvirt.imagecache [%s - - - - -] image %s-%s-%s-%s-%s at (/var/lib/nova/instances/_base/%s): checking" % (
        t, req, s(HEX, 8), s(HEX, 4), s(HEX, 4), s(HEX, 4), s(HEX, 12), s(HEX, 40))


def mac():
    t = "Jul  1 09:%02d:%02d calvisitor-10-105-160-95" % (R.randint(0, 59), R.randint(0, 59))
    c = R.randint(0, 4)
    if c == 0:
        return "%s kernel[0]: IOThunderboltSwitch<0>(0x0)::listenerCallback - Thunderbolt HPD packet for route = 0x0 port = %d unplug = 0" % (t, R.randint(1, 12))
    if c == 1:
        return "%s com.apple.CDScheduler[43]: Thermal pressure state: 1 Memory pressure state: 0" % t
    if c == 2:
        return "%s QQ[10018]: FA||Url||taskID[%d] dealloc" % (t, R.randint(10**9, 2 * 10**9))
    if c == 3:
        return "%s com.apple.WebKit.WebContent[%d]: [09:%02d:%02d.%03d] <<<< CRABS >>>> crabsFlumeHostAvailable: [0x7f961cf08cf0] Byte flume reports host available again." % (
            t, R.randint(100, 32000), R.randint(0, 59), R.randint(0, 59), R.randint(0, 999))
    return "%s secd[276]: securityd_xpc_dictionary_handler cloudd[326] copy_matching Error Domain=NSOSStatusErrorDomain Code=-50 \"query missing class name\" (paramErr: error in user parameter list) UserInfo={NSDescription=query missing class name}" % t


def ids():
    """JVM / service logs: signed longs, trace ids, snowflake ids, Kafka offsets"""
    t = "2026-11-27 06:%02d:%02d.%03d" % (R.randint(0, 59), R.randint(0, 59), R.randint(0, 999))
    c = R.randint(0, 7)
    if c == 0:
        return "%s INFO  [kafka-producer-network-thread] o.a.k.c.p.i.Sender - partition orders-%d offset %d seed=%d" % (
            t, R.randint(0, 31), R.randint(0, 10**12), slong())
    if c == 1:
        return "%s DEBUG c.e.cache.Ring - key hash %d -> node %d (ring token %d)" % (t, slong(), R.randint(0, 64), -R.randint(1, 2**63))
    if c == 2:
        return '{"ts":"%s","trace_id":"%s","span_id":"%s","msg":"GET /api/v1/items 200","traceparent":"00-%s-%s-01"}' % (
            t, s(HEX, 32), s(HEX, 16), s(HEX, 32), s(HEX, 16))
    if c == 3:  # snowflake ids: 41-bit ms since an epoch, 10-bit worker, 12-bit sequence
        sf = ((R.randint(10**11, 2 * 10**12)) << 22) | (R.randint(0, 1023) << 12) | R.randint(0, 4095)
        return '{"ts":"%s","level":"info","msg":"message stored","id":%d,"channel_id":"%d","author":"bot-%d"}' % (
            t, sf, sf - R.randint(0, 10**15), R.randint(1, 99))
    if c == 4:
        return "%s WARN  o.h.e.j.s.SqlExceptionHelper - SQL Error: 0, SQLState: 23505 (key (id)=(%d) already exists)" % (t, slong())
    if c == 5:
        return "%s INFO  [grpc-default-executor-%d] c.e.Ledger - applied entry term=%d index=%d checksum=%d" % (
            t, R.randint(0, 9), R.randint(1, 99), R.randint(0, 10**9), slong())
    if c == 6:
        return "%s INFO  c.e.Auth - token refresh scheduled in %ds for session %s (password unchanged, secret rotation off)" % (
            t, R.randint(60, 3600), s(HEX, 16))
    return "%s DEBUG c.e.Metrics - histogram sum=%d count=%d min=%d max=%d" % (t, slong(), R.randint(0, 10**6), -R.randint(0, 2**63), R.randint(0, 2**63 - 1))


SYSTEMS = [hdfs, hadoop, spark, zookeeper, bgl, hpc, thunderbird, windows, linux, android, healthapp, apache, proxifier,
           openssh, openstack, mac, ids]


def main():
    per = int(sys.argv[1]) if len(sys.argv) > 1 else 1250
    if per < 1:
        sys.exit("usage: make_benign.py [LINES_PER_SYSTEM]")
    lines = [f() for f in SYSTEMS for _ in range(per)]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "benign.txt"), "w") as out:
        for line in lines:
            assert "\n" not in line
            out.write(line + "\n")


if __name__ == "__main__":
    main()
